"""The evaluation protocol of Xtal2DoS (Bai et al. 2023), implemented exactly.

1. Every predicted and true spectrum is scaled to unit sum (negative values clipped first).
2. MAE and MSE are element-wise means over all spectra and bins.
3. R2 is sklearn's ``r2_score(true, pred, multioutput="variance_weighted")``.
4. The Wasserstein distance of each spectrum pair is ``scipy.stats.wasserstein_distance`` over
   the bin *indices* (0..n-1) weighted by the two spectra, averaged over spectra and multiplied by
   the bin width in the paper's units (0.0625 per bin: 1/16 eV for its eDOS grid; the paper uses
   the same factor for its phDOS table).

These numbers are on unit-sum spectra and not in physical units; report them beside
:func:`crystaldos.evaluation.spectrum_metrics` on the grid.
"""

from __future__ import annotations

import numpy as np

from crystaldos.evaluation.metrics import r2_variance_weighted

PAPER_BIN_WIDTH = 0.0625


def unit_sum(spectra: np.ndarray) -> np.ndarray:
    """(n, count) spectra clipped at 0 and scaled to sum 1 (an all-zero row stays zero)."""
    y = np.clip(np.atleast_2d(np.asarray(spectra, dtype=np.float64)), 0.0, None)
    total = y.sum(axis=1, keepdims=True)
    return np.divide(y, total, out=np.zeros_like(y), where=total > 0)


def wasserstein_over_bins(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """(n,) W1 distance per spectrum in bins (unit-sum inputs): sum_k |CDF_p - CDF_t|."""
    cdf_p = np.cumsum(pred, axis=1)
    cdf_t = np.cumsum(true, axis=1)
    return np.abs(cdf_p - cdf_t)[:, :-1].sum(axis=1)


def xtal2dos_metrics(pred: np.ndarray, true: np.ndarray,
                     bin_width: float = PAPER_BIN_WIDTH) -> dict[str, float]:
    """R2, MAE, MSE and WD of the Xtal2DoS protocol (see the module docstring)."""
    p, t = unit_sum(pred), unit_sum(true)
    if p.shape != t.shape:
        raise ValueError(f"prediction shape {p.shape} differs from target shape {t.shape}")
    return {"r2": r2_variance_weighted(p, t), "mae": float(np.mean(np.abs(p - t))),
            "mse": float(np.mean((p - t) ** 2)),
            "wd": float(np.mean(wasserstein_over_bins(p, t)) * bin_width),
            "n_spectra": int(p.shape[0])}
