"""Convert a predicted spectrum between shape-only normalizations (max, sum, area)."""

from __future__ import annotations

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.spectra.grid import Grid
from crystaldos.spectra.normalize import normalize

RESCALABLE = ("max", "sum", "area")


def check_rescalable(source: str, target: str) -> None:
    """Raise if predictions in ``source`` normalization cannot be given in ``target``."""
    if target != source and target not in RESCALABLE:
        raise CrystalDosError(f"cannot convert predictions from {source!r} to {target!r} "
                              f"normalization; choose one of {RESCALABLE} or the model's own")


def rescale_prediction(dos: np.ndarray, grid: Grid, source: str, target: str) -> np.ndarray:
    """``dos`` (count,) from normalization ``source`` to ``target``.

    Negative values are clipped. Only the shape-defined normalizations can be converted into
    each other; an absolute scale
    (valence, modes3n, none) cannot be recovered from a shape, so asking for it is an error.
    """
    check_rescalable(source, target)
    if target not in RESCALABLE:  # the model's own absolute scale: keep it as predicted
        return np.asarray(dos)
    # a shape normalization is enforced even when the model was trained on it, so a spectrum
    # labelled max-normalized has its maximum at exactly 1
    clipped = np.clip(np.asarray(dos, dtype=np.float64), 0.0, None)
    if not clipped.any():
        return clipped
    return normalize(clipped[None], grid, target)[0][0]
