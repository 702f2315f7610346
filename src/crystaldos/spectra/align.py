"""Moving the energy zero of an electronic DOS (data sets differ: see DOSDataset.energy_zero)."""

from __future__ import annotations

import numpy as np

from crystaldos.spectra.grid import Grid


def shift_energy(values: np.ndarray, grid: Grid, shift: float) -> np.ndarray:
    """(count,) the spectrum with every state moved from E to E - ``shift`` (eV), conserving
    area (bins are re-cut, not interpolated); states pushed off the grid are dropped."""
    from dataclasses import replace

    from crystaldos.spectra.resample import rebin

    moved = replace(grid, start=grid.start - shift)
    return rebin(np.asarray(values, dtype=np.float64), moved, grid)


def fermi_to_vbm(values: np.ndarray, grid: Grid) -> np.ndarray:
    """A spectrum with E = 0 at the Fermi level moved to E = 0 at the valence-band maximum: a
    gapped spectrum moves up by -VBM (the gap's lower edge at E_F, as
    :func:`crystaldos.physics.electronic.band_gap` finds it); a metal is returned unchanged."""
    from crystaldos.physics.electronic import band_gap

    gap = band_gap(grid, values, 0.0)
    if not gap.gap > 0 or not np.isfinite(gap.vbm):
        return np.asarray(values, dtype=np.float64)
    return shift_energy(values, grid, gap.vbm)


def fermi_to_midgap(values: np.ndarray, grid: Grid) -> np.ndarray:
    """A spectrum with E = 0 at the Fermi level moved to E = 0 at the middle of its gap: a
    gapped spectrum moves by -(VBM + CBM) / 2 (the gap at E_F, as
    :func:`crystaldos.physics.electronic.band_gap` finds it); a metal is returned unchanged.
    Codes put an insulator's Fermi level in different places (GPAW's Fermi-Dirac level sits
    near mid-gap, JARVIS's VASP spectra about 0.55 eV above the valence band); the middle of the
    gap is where both agree."""
    from crystaldos.physics.electronic import band_gap

    gap = band_gap(grid, values, 0.0)
    if not gap.gap > 0 or not (np.isfinite(gap.vbm) and np.isfinite(gap.cbm)):
        return np.asarray(values, dtype=np.float64)
    return shift_energy(values, grid, 0.5 * (gap.vbm + gap.cbm))
