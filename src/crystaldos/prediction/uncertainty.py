"""From the member spectra of a deep ensemble to a spectrum with a spread and property intervals.

Each member's spectrum is put in the output normalization, the mean of the members is the
prediction (put in that normalization once more: the mean of max-normalized spectra peaks
below 1), and the standard deviation over members, scaled like the mean, is the per-bin spread.
Properties are derived from the mean spectrum; their spread is the standard deviation of the
properties of the members. Ensembles are under-dispersed (members share data and recipe), so
the card's ``uncertainty`` section holds factors measured on validation that make the spreads
calibrated standard deviations (``benchmarks/uncertainty_calibration.py``): ``dos_scale`` and
``property_scale`` ({column: factor}); absent factors are 1 (raw ensemble spread).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from crystaldos.prediction.rescale import rescale_prediction
from crystaldos.prediction.schema import std_column
from crystaldos.spectra.grid import Grid


def uncertainty_columns(property_columns: Mapping[str, str]) -> dict[str, str]:
    """``<column>_std`` (float) for every float property column, then ``dos_spread``: the mean
    per-bin spread of the spectrum relative to its maximum (one number to rank trust by)."""
    cols = {std_column(c): "float" for c, t in property_columns.items() if t == "float"}
    cols["dos_spread"] = "float"
    return cols


def member_spectra(raw: np.ndarray, grid: Grid, source: str, target: str) -> np.ndarray:
    """(M, n) member spectra, each in the ``target`` normalization."""
    return np.stack([rescale_prediction(m, grid, source, target) for m in raw])


def ensemble_spectrum(members: np.ndarray, grid: Grid, normalization: str,
                      dos_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(mean, spread), each (n,): the normalized mean of ``members`` (M, n) and the calibrated
    per-bin standard deviation on the same scale."""
    mean = members.mean(axis=0)
    normalized = rescale_prediction(mean, grid, normalization, normalization)
    positive = mean.sum() > 0
    factor = float(normalized.sum() / mean.sum()) if positive else 1.0
    spread = members.std(axis=0, ddof=1) * factor * float(dos_scale)
    return normalized, spread


def property_spreads(member_rows: list[Mapping[str, Any]], columns: Mapping[str, str],
                     scales: Mapping[str, float]) -> dict[str, float | None]:
    """{``<column>_std``: calibrated standard deviation over members} for the float columns."""
    out: dict[str, float | None] = {}
    for column, kind in columns.items():
        if kind != "float":
            continue
        values = np.array([r.get(column) if r.get(column) is not None else np.nan
                           for r in member_rows], dtype=np.float64)
        values = values[np.isfinite(values)]
        out[std_column(column)] = (float(values.std(ddof=1) * scales.get(column, 1.0))
                                   if values.size >= 2 else None)
    return out


def dos_spread(mean: np.ndarray, spread: np.ndarray) -> float:
    """Mean per-bin spread relative to the spectrum's maximum."""
    top = float(np.max(mean)) if mean.size else 0.0
    return float(np.mean(spread) / top) if top > 0 else float("nan")
