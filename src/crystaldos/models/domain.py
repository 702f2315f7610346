"""What a model has seen in training, and notes for structures outside it.

A card's ``domain`` records the elements of the training materials (and how many materials held
each). :func:`domain_notes` says, per structure, what a user should know before trusting a
prediction: elements the model never saw, and a phonon spectrum that still has weight at the top
of its grid (modes above the grid are missing, so the thermal properties are too low).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from crystaldos.spectra.grid import PHONON, Grid
from crystaldos.structures.crystal import Crystal

#: A phonon spectrum whose last grid point holds more than this share of its maximum is cut by
#: the grid.
EDGE_SHARE = 0.05


def training_domain(crystals: Iterable[Crystal]) -> dict[str, Any]:
    """``{"elements": {symbol: materials holding it}, "n_materials": n}`` of the training set."""
    counts: Counter[str] = Counter()
    n = 0
    for crystal in crystals:
        counts.update(set(crystal.species))
        n += 1
    return {"elements": dict(sorted(counts.items())), "n_materials": n}


def unseen_elements(crystal: Crystal, domain: dict[str, Any] | None) -> list[str]:
    """Elements of ``crystal`` that no training material held (empty without a domain)."""
    if not domain or not domain.get("elements"):
        return []
    return sorted(set(crystal.species) - set(domain["elements"]))


def domain_notes(crystal: Crystal, domain: dict[str, Any] | None, grid: Grid,
                 dos: np.ndarray) -> list[str]:
    """One-line notes on a prediction outside what the model can know (see module docstring)."""
    notes = []
    unseen = unseen_elements(crystal, domain)
    if unseen:
        notes.append(f"element{'s' if len(unseen) > 1 else ''} {', '.join(unseen)} never seen "
                     "in training: the prediction is an extrapolation")
    y = np.asarray(dos, dtype=np.float64)
    if grid.kind == PHONON and y.max() > 0 and y[-1] > EDGE_SHARE * y.max():
        notes.append(f"the spectrum reaches the top of the grid ({grid.stop:g} {grid.unit}): "
                     "modes above it are missing, so Cv, S and the Debye temperature are too "
                     "low; use a model on a wider grid (phdos)")
    return notes
