"""Reference predictors that every accuracy figure is compared against."""

from __future__ import annotations

from functools import cache, reduce
from math import gcd
from typing import Any

import numpy as np

from crystaldos.elements import max_atomic_number
from crystaldos.evaluation.metrics import spectrum_metrics
from crystaldos.spectra.grid import Grid


class MeanSpectrumBaseline:
    """Predicts the mean training spectrum for every material (fit on the training split only)."""

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None

    def fit(self, train_spectra: np.ndarray) -> MeanSpectrumBaseline:
        y = np.asarray(train_spectra, dtype=np.float64)
        if y.ndim != 2 or y.shape[0] == 0:
            raise ValueError("fit needs an (n >= 1, count) array of training spectra")
        self.mean_ = y.mean(axis=0)
        return self

    def predict(self, n: int) -> np.ndarray:
        """(n, count) copies of the mean training spectrum."""
        if self.mean_ is None:
            raise ValueError("MeanSpectrumBaseline is not fitted")
        return np.tile(self.mean_, (n, 1))


def composition_vectors(crystals: list[Any]) -> np.ndarray:
    """(n, Z_max) element fractions of each crystal (composition only, no structure)."""
    width = max_atomic_number()
    out = np.zeros((len(crystals), width))
    for row, crystal in enumerate(crystals):
        numbers = np.asarray(crystal.numbers, dtype=np.int64)
        np.add.at(out[row], numbers - 1, 1.0)
        out[row] /= max(len(numbers), 1)
    return out


class CompositionKNNBaseline:
    """Nearest neighbours in composition space: the mean spectrum of the k training materials
    whose element fractions are closest (Euclidean). It sees no structure, so a structural model
    that does not beat it clearly has not learned structure. ``k`` can be chosen on validation
    with :meth:`select_k`.
    """

    def __init__(self, k: int = 5) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k = k
        self.train_x_: np.ndarray | None = None
        self.train_y_: np.ndarray | None = None

    def fit(self, train_crystals: list[Any], train_spectra: np.ndarray) -> CompositionKNNBaseline:
        y = np.asarray(train_spectra, dtype=np.float64)
        if y.ndim != 2 or y.shape[0] != len(train_crystals) or y.shape[0] == 0:
            raise ValueError("fit needs one spectrum per training crystal")
        self.train_x_ = composition_vectors(train_crystals)
        self.train_y_ = y
        return self

    def _neighbours(self, crystals: list[Any], k: int) -> np.ndarray:
        if self.train_x_ is None or self.train_y_ is None:
            raise ValueError("CompositionKNNBaseline is not fitted")
        x = composition_vectors(crystals)
        k = min(k, self.train_x_.shape[0])
        d2 = ((x**2).sum(1)[:, None] + (self.train_x_**2).sum(1)[None]
              - 2.0 * x @ self.train_x_.T)
        return np.argsort(d2, axis=1, kind="stable")[:, :k]

    def predict(self, crystals: list[Any]) -> np.ndarray:
        """(n, count) mean spectrum of each crystal's k nearest training compositions."""
        idx = self._neighbours(crystals, self.k)
        return self.train_y_[idx].mean(axis=1)

    def select_k(self, val_crystals: list[Any], val_spectra: np.ndarray,
                 candidates: tuple[int, ...] = (1, 2, 3, 5, 8, 12, 20, 30)) -> int:
        """Set ``k`` to the candidate with the lowest validation MAE; returns it."""
        idx = self._neighbours(val_crystals, max(candidates))
        true = np.asarray(val_spectra, dtype=np.float64)
        scores = {k: float(np.abs(self.train_y_[idx[:, :k]].mean(axis=1) - true).mean())
                  for k in candidates}
        self.k = min(scores, key=scores.__getitem__)
        return self.k


def compare_with_baselines(pred: np.ndarray, true: np.ndarray, grid: Grid,
                           train_crystals: list[Any], train_spectra: np.ndarray,
                           eval_crystals: list[Any],
                           ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Metrics of ``pred`` beside both baselines fitted on the training materials.

    Returns ``({"model", "mean_spectrum", "composition_knn"} -> spectrum metrics, with the kNN's
    ``k``; the same keys -> (n, count) predictions)``. The kNN's k is chosen on these same
    spectra, which can only flatter the baseline, never the model.
    """
    mean = MeanSpectrumBaseline().fit(train_spectra).predict(len(true))
    knn = CompositionKNNBaseline().fit(train_crystals, train_spectra)
    k = knn.select_k(eval_crystals, true)
    knn_pred = knn.predict(eval_crystals)
    metrics = {"model": spectrum_metrics(pred, true, grid),
               "mean_spectrum": spectrum_metrics(mean, true, grid),
               "composition_knn": {**spectrum_metrics(knn_pred, true, grid), "k": k}}
    return metrics, {"model": pred, "mean_spectrum": mean, "composition_knn": knn_pred}


#: pymatgen ``Element`` attributes that can serve as the oxidation-state table of the charge rule
OXIDATION_TABLES = {"common": "common_oxidation_states", "icsd": "icsd_oxidation_states",
                    "all": "oxidation_states"}


@cache
def _oxidation_states(symbol: str, table: str) -> tuple[int, ...]:
    from pymatgen.core import Element

    return tuple(getattr(Element(symbol), OXIDATION_TABLES[table])) or (0,)


@cache
def composition_imbalance(composition: tuple[tuple[str, int], ...], table: str = "common") -> float:
    """The smallest net charge per atom, over every assignment of one oxidation state per
    element from ``table``, of ``((symbol, count), ...)``: 0 when the formula can balance,
    else the electrons (per atom) left over or missing; 0 for one element."""
    if len(composition) == 1:
        return 0.0  # an element: oxidation state 0
    symbols = [s for s, _ in composition]
    counts = [c for _, c in composition]
    divisor = reduce(gcd, counts)
    counts = [c // divisor for c in counts]
    reachable = {0}  # net charges reachable so far: bounded, unlike the product of choices
    for symbol, count in zip(symbols, counts, strict=True):
        reachable = {r + count * q for r in reachable for q in _oxidation_states(symbol, table)}
    return min(abs(r) for r in reachable) / sum(counts)


def balanced_composition(composition: tuple[tuple[str, int], ...],
                         table: str = "common") -> bool:
    """:func:`charge_balanced` of ``((symbol, count), ...)``, cached per composition."""
    return composition_imbalance(composition, table) == 0


def charge_imbalance(species: list[str] | tuple[str, ...], table: str = "common") -> float:
    """:func:`composition_imbalance` of a crystal's ``species`` (electrons per atom)."""
    symbols, counts = np.unique(np.asarray(species), return_counts=True)
    return composition_imbalance(
        tuple((str(s), int(c)) for s, c in zip(symbols, counts, strict=True)), table)


def charge_balanced(species: list[str] | tuple[str, ...], table: str = "common") -> bool:
    """True when one oxidation state per element from ``table`` (see OXIDATION_TABLES; every
    atom of an element alike) makes the formula neutral; a crystal of one element is
    balanced."""
    return charge_imbalance(species, table) == 0


def charge_rule_says_metal(species: list[str] | tuple[str, ...], table: str = "common") -> bool:
    """The composition rule extended by charge counting: every element is a metal, or no
    assignment of common oxidation states balances the formula (electrons left over, as in
    Ba4NaGe or a boride) => metal. A stronger composition-only baseline than
    :func:`composition_says_metal`. The oxidation-state table, ``common``, was chosen on the
    DFT eDOS set's training and validation materials (``benchmarks/metal_rules.py``)."""
    return composition_says_metal(species) or not charge_balanced(species, table)


def composition_says_metal(species: list[str] | tuple[str, ...]) -> bool:
    """The one-line composition rule for metallicity: every element is a metal (pymatgen's
    ``Element.is_metal``: metalloids B, Si, Ge, As, Sb, Te, Po are not) => the crystal is a
    metal. The baseline every metal/non-metal classifier here is set beside."""
    from pymatgen.core import Element

    return all(Element(s).is_metal for s in set(species))
