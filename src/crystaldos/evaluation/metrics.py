"""Spectrum metrics, each defined per spectrum and then averaged over spectra.

Inputs are ``pred`` and ``true`` of shape (n, count) (a single (count,) spectrum is treated as
n = 1) on the same grid, in whatever normalization the caller chose; the metric is computed on
those values as they are. ``*_per_spectrum`` functions return (n,) arrays for per-material
analyses; the plain functions return their mean.
"""

from __future__ import annotations

import numpy as np

from crystaldos.spectra.grid import Grid


def _pair(pred: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.atleast_2d(np.asarray(pred, dtype=np.float64))
    t = np.atleast_2d(np.asarray(true, dtype=np.float64))
    if p.shape != t.shape:
        raise ValueError(f"prediction shape {p.shape} differs from target shape {t.shape}")
    return p, t


def mae_per_spectrum(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """mean over bins of |p - a|, one value per spectrum."""
    p, t = _pair(pred, true)
    return np.abs(p - t).mean(axis=1)


def mse_per_spectrum(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """mean over bins of (p - a)^2, one value per spectrum."""
    p, t = _pair(pred, true)
    return ((p - t) ** 2).mean(axis=1)


def relative_error_per_spectrum(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """|mean(p) - mean(a)| / mean(a) over bins, one value per spectrum (the ALIGNN eDOS measure).

    Spectra whose mean is 0 give NaN.
    """
    p, t = _pair(pred, true)
    denom = t.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom != 0, np.abs(p.mean(axis=1) - denom) / denom, np.nan)


def r2_per_spectrum(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """1 - sum_bins (a - p)^2 / sum_bins (a - mean(a))^2 for each spectrum (NaN if a is flat)."""
    p, t = _pair(pred, true)
    ss_res = ((t - p) ** 2).sum(axis=1)
    ss_tot = ((t - t.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, np.nan)


def r2_variance_weighted(pred: np.ndarray, true: np.ndarray) -> float:
    """R2 across spectra for each bin, averaged with the bins' variances as weights.

    Equal to sklearn's ``r2_score(true, pred, multioutput="variance_weighted")``, the form used by
    Mat2Spec and Xtal2DoS: ``1 - sum_b SS_res_b / sum_b SS_tot_b`` with sums over spectra per bin.
    """
    p, t = _pair(pred, true)
    ss_res = ((t - p) ** 2).sum(axis=0)
    ss_tot = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    if ss_tot.sum() == 0:
        return float("nan")
    return float(1.0 - ss_res.sum() / ss_tot.sum())


def wasserstein_per_spectrum(pred: np.ndarray, true: np.ndarray, grid: Grid) -> np.ndarray:
    """1-D Wasserstein (earth mover's) distance in the grid's unit, one value per spectrum.

    Both spectra are read as distributions over the grid points: negative values are clipped to 0
    and each is scaled to unit sum; W1 = step * sum_k |CDF_p(k) - CDF_a(k)|, which equals
    ``scipy.stats.wasserstein_distance(points, points, p, a)``. A spectrum with no positive
    weight gives NaN.
    """
    p, t = _pair(pred, true)
    p = np.clip(p, 0.0, None)
    t = np.clip(t, 0.0, None)
    sp, st = p.sum(axis=1, keepdims=True), t.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf_p = np.cumsum(p / sp, axis=1)
        cdf_t = np.cumsum(t / st, axis=1)
    w = np.abs(cdf_p - cdf_t)[:, :-1].sum(axis=1) * grid.step
    return np.where((sp[:, 0] > 0) & (st[:, 0] > 0), w, np.nan)


def mae(pred: np.ndarray, true: np.ndarray) -> float:
    return float(mae_per_spectrum(pred, true).mean())


def mse(pred: np.ndarray, true: np.ndarray) -> float:
    return float(mse_per_spectrum(pred, true).mean())


def relative_error(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean over spectra of :func:`relative_error_per_spectrum` (NaNs skipped)."""
    return float(np.nanmean(relative_error_per_spectrum(pred, true)))


def r2_mean(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean over spectra of :func:`r2_per_spectrum` (flat targets skipped)."""
    return float(np.nanmean(r2_per_spectrum(pred, true)))


def wasserstein(pred: np.ndarray, true: np.ndarray, grid: Grid) -> float:
    """Mean over spectra of :func:`wasserstein_per_spectrum`, in the grid's unit."""
    return float(np.nanmean(wasserstein_per_spectrum(pred, true, grid)))


def mae_to_mad(pred: np.ndarray, true: np.ndarray) -> float:
    """MAE of a scalar property divided by the mean absolute deviation of the targets from their
    mean (MAE:MAD; a constant predictor of the mean scores 1, lower is better)."""
    p = np.asarray(pred, dtype=np.float64).reshape(-1)
    t = np.asarray(true, dtype=np.float64).reshape(-1)
    if p.shape != t.shape:
        raise ValueError("prediction and target lengths differ")
    mad = np.abs(t - t.mean()).mean()
    return float(np.abs(p - t).mean() / mad) if mad > 0 else float("nan")


def spectrum_metrics(pred: np.ndarray, true: np.ndarray, grid: Grid) -> dict[str, float]:
    """All spectrum metrics at once (means over spectra; R2 in both forms)."""
    return {
        "mae": mae(pred, true),
        "mse": mse(pred, true),
        "relative_error": relative_error(pred, true),
        "r2_mean": r2_mean(pred, true),
        "r2_variance_weighted": r2_variance_weighted(pred, true),
        "wasserstein": wasserstein(pred, true, grid),
        "n_spectra": int(np.atleast_2d(np.asarray(true)).shape[0]),
    }


#: the shape window of a JARVIS spectrum ends this far (eV) below its last state
WINDOW_MARGIN = 0.5


def unit_mean(spectra: np.ndarray, window: np.ndarray | None = None) -> np.ndarray:
    """(n, G) spectra scaled to unit mean over ``window`` (n, G) bool (all of the grid when
    None), 0 outside it."""
    y = np.clip(np.asarray(spectra, dtype=np.float64), 0, None)
    w = np.ones(y.shape, dtype=bool) if window is None else np.broadcast_to(window, y.shape)
    y = np.where(w, y, 0.0)
    mean = y.sum(axis=1, keepdims=True) / np.maximum(w.sum(axis=1, keepdims=True), 1)
    return y / np.maximum(mean, 1e-12)


def computed_window(grid: Grid, spectra: np.ndarray, margin: float = WINDOW_MARGIN) -> np.ndarray:
    """(n, G) bool: the energies up to ``margin`` eV below the last state of each spectrum.
    A spectrum that reaches the grid's top keeps the whole grid. JARVIS's VASP runs computed
    few empty bands, so 36 of its 50 check spectra end between 2.0 and 9.9 eV, inside the
    edos300 grid's 10 eV, where every band of GPAW's LCAO runs still holds states: a shape
    compared beyond a spectrum's last band compares a missing band."""
    y = np.clip(np.asarray(spectra, dtype=np.float64), 0, None)
    points = grid.points
    out = np.zeros(y.shape, dtype=bool)
    for k, row in enumerate(y):
        held = np.nonzero(row > 1e-3 * row.max())[0] if row.max() > 0 else []
        last = points[held[-1]] if len(held) else points[-1]
        out[k] = points <= (points[-1] if last >= points[-1] else last - margin)
    return out
