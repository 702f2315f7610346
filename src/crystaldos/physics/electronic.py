"""Band gap, DOS at the Fermi level, metal / semiconductor / insulator, Sommerfeld coefficient.

Band edges are found on the grid: a point is *empty* when its DOS is below
``rel_tol * max(DOS)``. The gap is the run of empty points that holds the Fermi level or, failing
that, the widest run reaching within ``edge_window`` eV of it (so a dip inside the valence band is
never taken for the gap); each edge is placed half a step outside the last occupied point, so the
gap is the number of empty points times the step, within one grid step of the true gap of a
sharp-edged DOS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.physics.cell import checked_spectrum
from crystaldos.physics.constants import EV, K_B, N_A
from crystaldos.spectra.grid import ELECTRONIC, Grid

#: share of the spectrum's maximum below which a grid point counts as empty.
DEFAULT_GAP_TOLERANCE = 0.01
#: how far (eV) from the Fermi level the gap may start. Spectra aligned to the valence-band
#: maximum (JARVIS, the xTB reference set) carry the smeared tail of the top valence states
#: across E = 0; with a Gaussian smearing of width s the DOS falls below 1 % of a band-edge
#: value only about 3 s above the edge (0.45 eV for the xTB set's s = 0.15 eV), so the gap is
#: looked for up to half an eV away.
DEFAULT_EDGE_WINDOW = 0.5
#: gaps (eV) at or above this are called insulators, below it semiconductors.
DEFAULT_INSULATOR_GAP = 3.0

METAL = "metal"
SEMICONDUCTOR = "semiconductor"
INSULATOR = "insulator"


@dataclass(frozen=True)
class BandGap:
    """gap (eV; 0 for a metal), valence and conduction band edges (eV; NaN for a metal), and
    ``open_ended`` when the empty run reaches the end of the grid (the gap is a lower bound)."""

    gap: float
    vbm: float
    cbm: float
    open_ended: bool = False

    @property
    def is_metal(self) -> bool:
        return self.gap == 0.0


def band_gap(grid: Grid, values: np.ndarray, fermi_level: float = 0.0, *,
             rel_tol: float = DEFAULT_GAP_TOLERANCE,
             edge_window: float = DEFAULT_EDGE_WINDOW) -> BandGap:
    """The gap around ``fermi_level`` (eV, on the grid's energy axis)."""
    y = checked_spectrum(grid, values, ELECTRONIC)
    energies = grid.points
    if not grid.start <= fermi_level <= grid.stop:
        raise CrystalDosError(f"Fermi level {fermi_level} eV lies outside the grid "
                              f"{grid.start:g}..{grid.stop:g} eV")
    peak = y.max()
    if peak <= 0:
        raise CrystalDosError("DOS has no positive values")
    empty = y < rel_tol * peak
    runs = _empty_runs(empty)
    window = [(lo, hi) for lo, hi in runs
              if energies[lo] - fermi_level <= edge_window + 1e-12
              and fermi_level - energies[hi] <= edge_window + 1e-12]
    if not window:
        return BandGap(0.0, float("nan"), float("nan"))
    # the run that holds E_F, else the widest one near it: a dip inside a band is narrower
    # than the gap above the band (a VBM-aligned spectrum's gap starts just above E_F)
    holding = [r for r in window if energies[r[0]] <= fermi_level <= energies[r[1]]]
    lo, hi = holding[0] if holding else max(window, key=lambda r: r[1] - r[0])
    vbm = energies[lo] - 0.5 * grid.step
    cbm = energies[hi] + 0.5 * grid.step
    return BandGap(float(cbm - vbm), float(vbm), float(cbm),
                   open_ended=bool(lo == 0 or hi == grid.count - 1))


def _empty_runs(empty: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of each run of consecutive True values."""
    padded = np.concatenate([[False], empty, [False]]).astype(np.int8)
    change = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(change[::2], change[1::2], strict=True)]


def dos_at_energy(grid: Grid, values: np.ndarray, energy: float = 0.0) -> float:
    """DOS at ``energy`` by linear interpolation between grid points (negative values -> 0)."""
    y = np.clip(checked_spectrum(grid, values, ELECTRONIC), 0.0, None)
    if not grid.start <= energy <= grid.stop:
        raise CrystalDosError(f"energy {energy} eV lies outside the grid")
    return float(np.interp(energy, grid.points, y))


def classify(gap: float, insulator_gap: float = DEFAULT_INSULATOR_GAP) -> str:
    """'metal' (gap 0), 'semiconductor' (0 < gap < insulator_gap) or 'insulator'."""
    if gap <= 0:
        return METAL
    return INSULATOR if gap >= insulator_gap else SEMICONDUCTOR


def sommerfeld_coefficient(dos_at_fermi_states_per_ev: float, formula_units: int = 1) -> float:
    """Electronic heat-capacity coefficient gamma = (pi^2 / 3) k_B^2 g(E_F), in mJ/(mol K^2) per
    mole of formula units, from g(E_F) in states/eV per cell (both spins)."""
    if dos_at_fermi_states_per_ev < 0 or formula_units < 1:
        raise CrystalDosError("g(E_F) must be >= 0 and formula_units >= 1")
    per_joule = dos_at_fermi_states_per_ev / EV
    gamma_cell = np.pi**2 / 3.0 * K_B**2 * per_joule  # J/K^2 per cell
    return float(gamma_cell * N_A / formula_units * 1000.0)
