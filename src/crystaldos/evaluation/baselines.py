"""Reference predictors that every accuracy figure is compared against."""

from __future__ import annotations

import numpy as np


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
