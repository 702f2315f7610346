"""Spectrum normalizations, each an exact per-spectrum scale factor that can be undone.

``normalize(y, grid, method, ...)`` returns ``(y / factor, factor)`` and
``denormalize(y_n, factor)`` returns ``y_n * factor``, so the round trip is exact up to floating
point. Factors per method:

* ``none``: 1.
* ``max``: the spectrum's maximum (normalized max = 1; the JARVIS / MP phonon data sets).
* ``sum``: the sum of values (normalized values sum to 1; the Xtal2DoS protocol).
* ``area``: ``sum * step`` (normalized integral over the grid = 1, in the grid's unit).
* ``valence``: the number of valence electrons (states per unit energy per valence electron).
* ``modes3n``: ``area / (3 N)`` with N atoms per cell (normalized integral = 3N phonon modes).

Per-bin standardization across a data set is a separate, fitted transform:
:class:`BinStandardizer` (fit on training spectra only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from crystaldos.errors import SpectrumError
from crystaldos.spectra.grid import Grid

NORMALIZATIONS = ("none", "max", "sum", "area", "valence", "modes3n")


def _per_spectrum(value: Any, n: int, name: str) -> np.ndarray:
    if value is None:
        raise SpectrumError(f"this normalization needs {name}")
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    if np.any(arr <= 0) or not np.all(np.isfinite(arr)):
        raise SpectrumError(f"{name} must be positive")
    return arr


def normalization_factor(values: np.ndarray, grid: Grid, method: str, *,
                         n_valence: Any = None, n_atoms: Any = None) -> np.ndarray:
    """Per-spectrum factors, shape () for one spectrum (count,) or (n,) for (n, count)."""
    y = np.asarray(values, dtype=np.float64)
    if y.shape[-1] != grid.count:
        raise SpectrumError(f"spectrum has {y.shape[-1]} values but the grid has {grid.count}")
    rows = y.reshape(-1, grid.count)
    n = rows.shape[0]
    if method == "none":
        factor = np.ones(n)
    elif method == "max":
        factor = rows.max(axis=1)
    elif method == "sum":
        factor = rows.sum(axis=1)
    elif method == "area":
        factor = rows.sum(axis=1) * grid.step
    elif method == "valence":
        factor = _per_spectrum(n_valence, n, "n_valence (valence electrons per cell)")
    elif method == "modes3n":
        factor = rows.sum(axis=1) * grid.step / (3.0 * _per_spectrum(n_atoms, n, "n_atoms"))
    else:
        raise SpectrumError(f"unknown normalization {method!r}; choose from {NORMALIZATIONS}")
    if np.any(factor <= 0) or not np.all(np.isfinite(factor)):
        raise SpectrumError(f"cannot normalize by {method!r}: a spectrum has no positive "
                            f"{'maximum' if method == 'max' else 'area'}")
    return factor.reshape(y.shape[:-1])


def normalize(values: np.ndarray, grid: Grid, method: str, *, n_valence: Any = None,
              n_atoms: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(values / factor, factor)``; see the module docstring for each method."""
    factor = normalization_factor(values, grid, method, n_valence=n_valence, n_atoms=n_atoms)
    return np.asarray(values, dtype=np.float64) / np.asarray(factor)[..., None], factor


def denormalize(values: np.ndarray, factor: Any) -> np.ndarray:
    """Undo :func:`normalize`: ``values * factor`` (factor per spectrum)."""
    return np.asarray(values, dtype=np.float64) * np.asarray(factor, dtype=np.float64)[..., None]


@dataclass
class BinStandardizer:
    """Per-bin standardization ``(y - mean) / scale``; fit it on the training split only.

    Bins that are constant in the training data get scale 1 so that the transform stays invertible.
    """

    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def fit(self, spectra: np.ndarray) -> BinStandardizer:
        y = np.asarray(spectra, dtype=np.float64)
        if y.ndim != 2 or y.shape[0] < 2:
            raise SpectrumError("fit needs an (n >= 2, count) array of training spectra")
        self.mean = y.mean(axis=0)
        std = y.std(axis=0)
        self.scale = np.where(std > 1e-12, std, 1.0)
        return self

    def _check(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean is None or self.scale is None:
            raise SpectrumError("BinStandardizer is not fitted")
        return self.mean, self.scale

    def transform(self, spectra: np.ndarray) -> np.ndarray:
        mean, scale = self._check()
        return (np.asarray(spectra, dtype=np.float64) - mean) / scale

    def inverse_transform(self, standardized: np.ndarray) -> np.ndarray:
        mean, scale = self._check()
        return np.asarray(standardized, dtype=np.float64) * scale + mean

    def to_dict(self) -> dict[str, list[float]]:
        mean, scale = self._check()
        return {"mean": mean.tolist(), "scale": scale.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> BinStandardizer:
        return cls(np.asarray(data["mean"], dtype=np.float64),
                   np.asarray(data["scale"], dtype=np.float64))
