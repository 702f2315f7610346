"""What a model has seen in training, and notes for structures outside it.

A card's ``domain`` records the elements of the training materials (and how many materials held
each) and their distinct reduced formulas. :class:`CompositionDistance` turns the formulas into
an out-of-domain score: the distance from a structure's composition (element fractions) to the
nearest training composition, divided by the median of that distance among the training
compositions themselves (``composition_scale``): 0 for a composition seen in training, about 1
for a typical new one, well above 1 for chemistry far from everything the model learned from.
It sees composition only; a polymorph of a training formula scores 0 (the ensemble spread,
where a model has one, is the structure-aware measure). :func:`domain_notes` says, per
structure, what a user should know before trusting a prediction: elements the model never saw,
and a phonon spectrum that still has weight at the top of its grid (modes above the grid are
missing, so the thermal properties are too low).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from crystaldos.spectra.grid import PHONON, Grid
from crystaldos.structures.crystal import Crystal

#: A phonon spectrum whose last grid point holds more than this share of its maximum is cut by
#: the grid.
EDGE_SHARE = 0.05


def training_domain(crystals: Iterable[Crystal]) -> dict[str, Any]:
    """``{"elements": {symbol: materials holding it}, "n_materials": n, "compositions":
    [reduced formulas], "composition_scale": median nearest-neighbour distance}`` of the
    training set."""
    from crystaldos.physics.cell import CellInfo

    counts: Counter[str] = Counter()
    formulas: set[str] = set()
    n = 0
    for crystal in crystals:
        counts.update(set(crystal.species))
        formulas.add(CellInfo.from_crystal(crystal).reduced_formula)
        n += 1
    compositions = sorted(formulas)
    return {"elements": dict(sorted(counts.items())), "n_materials": n,
            "compositions": compositions,
            "composition_scale": _nearest_neighbour_scale(fraction_vectors(compositions))}


def fraction_vectors(formulas: Sequence[str]) -> np.ndarray:
    """(n, Z_max) element fractions of each formula."""
    from crystaldos.elements import atomic_number, max_atomic_number
    from crystaldos.physics.cell import species_from_formula

    out = np.zeros((len(formulas), max_atomic_number()))
    for row, formula in enumerate(formulas):
        species = species_from_formula(formula)
        for symbol in species:
            out[row, atomic_number(symbol) - 1] += 1.0 / len(species)
    return out


def _nearest_distances(x: np.ndarray, train: np.ndarray, exclude_self: bool = False,
                       chunk: int = 2048) -> np.ndarray:
    """(len(x),) Euclidean distance of each row of ``x`` to its nearest row of ``train``."""
    out = np.empty(len(x))
    t2 = (train**2).sum(1)
    for start in range(0, len(x), chunk):
        block = x[start:start + chunk]
        d2 = (block**2).sum(1)[:, None] + t2[None] - 2.0 * block @ train.T
        if exclude_self:
            d2[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        out[start:start + chunk] = np.sqrt(np.clip(d2.min(axis=1), 0.0, None))
    return out


def _nearest_neighbour_scale(vectors: np.ndarray) -> float | None:
    if len(vectors) < 2:
        return None
    return float(np.median(_nearest_distances(vectors, vectors, exclude_self=True)))


class CompositionDistance:
    """The out-of-domain score of a card's ``domain`` (see the module docstring); ``None`` for
    a domain recorded without compositions."""

    def __init__(self, domain: dict[str, Any] | None) -> None:
        domain = domain or {}
        self.scale = domain.get("composition_scale")
        formulas = domain.get("compositions") or []
        self.train = fraction_vectors(formulas) if formulas and self.scale else None
        if self.train is not None:
            self.train_sq = (self.train**2).sum(axis=1)

    def __call__(self, crystal: Crystal) -> float | None:
        from crystaldos.evaluation.baselines import composition_vectors

        if self.train is None:
            return None
        # the element fractions of the cell are those of its reduced formula
        x = composition_vectors([crystal])[0]
        d2 = float(x @ x) + self.train_sq - 2.0 * (self.train @ x)
        return float(np.sqrt(max(float(d2.min()), 0.0)) / self.scale)


def unseen_elements(crystal: Crystal, domain: dict[str, Any] | None) -> list[str]:
    """Elements of ``crystal`` that no training material held (empty without a domain)."""
    if not domain or not domain.get("elements"):
        return []
    return sorted(set(crystal.species) - set(domain["elements"]))


def unseen_elements_note(crystal: Crystal, domain: dict[str, Any] | None,
                         what: str = "prediction") -> str | None:
    """"elements X, Y never seen in training: the ``what`` is an extrapolation", or None when
    the training ``domain`` held every element of ``crystal`` (or records none)."""
    unseen = unseen_elements(crystal, domain)
    if not unseen:
        return None
    return (f"element{'s' if len(unseen) > 1 else ''} {', '.join(unseen)} never seen in "
            f"training: the {what} is an extrapolation")


def domain_notes(crystal: Crystal, domain: dict[str, Any] | None, grid: Grid,
                 dos: np.ndarray) -> list[str]:
    """One-line notes on a prediction outside what the model can know (see module docstring)."""
    unseen = unseen_elements_note(crystal, domain)
    notes = [unseen] if unseen else []
    y = np.asarray(dos, dtype=np.float64)
    if grid.kind == PHONON and y.max() > 0 and y[-1] > EDGE_SHARE * y.max():
        notes.append(f"the spectrum reaches the top of the grid ({grid.stop:g} {grid.unit}): "
                     "modes above it are missing, so Cv, S and the Debye temperature are too "
                     "low; use a model on a wider grid (phdos)")
    return notes
