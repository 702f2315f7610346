"""Put raw DOS data (any energy list, or discrete levels) onto a :class:`Grid`, conserving area."""

from __future__ import annotations

import numpy as np
from scipy.special import erf

from crystaldos.errors import SpectrumError
from crystaldos.spectra.grid import Grid


def _cumulative_piecewise_linear(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Integral up to ``at`` of the piecewise-linear function through (x, y), zero outside."""
    seg = np.diff(x)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * seg)])
    k = np.clip(np.searchsorted(x, at, side="right") - 1, 0, x.size - 2)
    t = np.clip(at - x[k], 0.0, seg[k])
    slope = (y[k + 1] - y[k]) / seg[k]
    partial = y[k] * t + 0.5 * slope * t * t
    out = cum[k] + partial
    out = np.where(at <= x[0], 0.0, out)
    return np.where(at >= x[-1], cum[-1], out)


def resample(energies: np.ndarray, dos: np.ndarray, grid: Grid) -> np.ndarray:
    """Average a raw DOS over each bin of ``grid``; returns (count,) or (n, count).

    The raw DOS is read as the piecewise-linear function through ``(energies, dos)`` and zero
    outside them; each output value is that function's integral over the bin
    ``[point - step/2, point + step/2]`` divided by ``step``. Hence
    ``sum(out) * step == trapz(dos, energies)`` whenever the raw data lie inside the grid span.
    ``energies`` must be in the grid's unit; ``dos`` may be (m,) or (n, m).
    """
    x = np.asarray(energies, dtype=np.float64)
    y = np.asarray(dos, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise SpectrumError("resample needs at least 2 energies")
    if y.shape[-1] != x.size:
        raise SpectrumError(f"{x.size} energies but DOS has {y.shape[-1]} values")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise SpectrumError("energies and DOS must be finite")
    order = np.argsort(x, kind="stable")
    x = x[order]
    y = y[..., order]
    if np.any(np.diff(x) <= 0):
        raise SpectrumError("energies must be distinct")
    edges = grid.edges
    if y.ndim == 1:
        return np.diff(_cumulative_piecewise_linear(x, y, edges)) / grid.step
    return np.stack([np.diff(_cumulative_piecewise_linear(x, row, edges)) / grid.step
                     for row in y.reshape(-1, x.size)]).reshape(*y.shape[:-1], grid.count)


def smear_levels(levels: np.ndarray, grid: Grid, sigma: float,
                 weights: np.ndarray | None = None) -> np.ndarray:
    """Gaussian-broadened DOS of discrete levels (eigenvalues, mode frequencies) on ``grid``.

    Each level carries ``weight`` states (default 1) spread as a normalised Gaussian of standard
    deviation ``sigma`` (grid unit); bins receive the exact integral of the Gaussian over the bin,
    divided by the step, so ``sum(out) * step`` equals the total weight inside the grid span.
    """
    levels = np.asarray(levels, dtype=np.float64).reshape(-1)
    w = np.ones_like(levels) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != levels.shape:
        raise SpectrumError("weights must match levels")
    if sigma <= 0:
        raise SpectrumError("sigma must be positive")
    edges = grid.edges
    out = np.zeros(grid.count)
    chunk = max(1, 2_000_000 // (edges.size + 1))
    for lo in range(0, levels.size, chunk):
        z = (edges[None, :] - levels[lo:lo + chunk, None]) / (np.sqrt(2.0) * sigma)
        cdf = 0.5 * (1.0 + erf(z))
        out += (w[lo:lo + chunk, None] * np.diff(cdf, axis=1)).sum(axis=0)
    return out / grid.step


def rebin_matrix(source: Grid, target: Grid) -> np.ndarray:
    """(source.count, target.count) operator that moves a binned DOS between grids, conserving
    area: ``target_values = source_values @ M``.

    Each source value is read as constant over its bin (bin-averaged DOS, as every grid here
    holds); ``M[i, j]`` is the overlap of source bin i with target bin j divided by the target
    step. Area inside the target span is kept exactly; what lies outside it is dropped. The
    grids must be of one kind; units are converted (cm^-1, THz, meV).
    """
    if source.kind != target.kind:
        raise SpectrumError(f"cannot rebin a {source.kind} grid onto a {target.kind} grid")
    src = source.converted(target.unit) if source.unit != target.unit else source
    lo_s, hi_s = src.edges[:-1], src.edges[1:]
    lo_t, hi_t = target.edges[:-1], target.edges[1:]
    overlap = (np.minimum(hi_s[:, None], hi_t[None, :])
               - np.maximum(lo_s[:, None], lo_t[None, :]))
    return np.clip(overlap, 0.0, None) / target.step


def rebin(values: np.ndarray, source: Grid, target: Grid) -> np.ndarray:
    """``values`` (..., source.count) on ``target`` (..., target.count); see :func:`rebin_matrix`.
    In the source unit's density: a spectrum per cm^-1 comes out per target unit."""
    y = np.asarray(values, dtype=np.float64)
    if source.kind != target.kind:
        raise SpectrumError(f"cannot rebin a {source.kind} grid onto a {target.kind} grid")
    if y.shape[-1] != source.count:
        raise SpectrumError(f"{y.shape[-1]} values but the source grid has {source.count} points")
    # states per source unit -> per target unit
    scale = source.step / source.converted(target.unit).step
    return (y @ rebin_matrix(source, target)) * scale
