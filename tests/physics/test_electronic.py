import numpy as np
import pytest

from crystaldos.errors import CrystalDosError
from crystaldos.physics.electronic import (
    band_gap,
    classify,
    dos_at_energy,
    sommerfeld_coefficient,
)
from crystaldos.spectra.grid import EDOS_128, EDOS_300, Grid


def gapped(grid: Grid, vbm: float, cbm: float) -> np.ndarray:
    e = grid.points
    return np.where((e <= vbm) | (e >= cbm), 1.0 + 0.3 * np.sin(e), 0.0)


@pytest.mark.parametrize(("vbm", "cbm"), [(-0.5, 1.0), (-0.33, 0.41), (-1.234, 2.71),
                                         (0.0, 1.1), (-0.9, 0.0)])
def test_gap_of_a_synthetic_gapped_dos_is_exact_to_one_step(vbm: float, cbm: float) -> None:
    for grid in (EDOS_300, EDOS_128):
        gap = band_gap(grid, gapped(grid, vbm, cbm))
        assert abs(gap.gap - (cbm - vbm)) <= grid.step + 1e-9
        assert abs(gap.vbm - vbm) <= grid.step and abs(gap.cbm - cbm) <= grid.step
        assert not gap.is_metal and not gap.open_ended


def test_metal_has_zero_gap_and_a_dos_at_the_fermi_level() -> None:
    e = EDOS_300.points
    y = np.sqrt(np.clip(e + 5.0, 0, None)) * 0.2
    gap = band_gap(EDOS_300, y)
    assert gap.gap == 0.0 and gap.is_metal and np.isnan(gap.vbm)
    assert dos_at_energy(EDOS_300, y, 0.0) == pytest.approx(0.2 * np.sqrt(5.0), rel=1e-3)
    assert classify(gap.gap) == "metal"


def test_tolerance_is_relative_to_the_spectrum_scale() -> None:
    y = gapped(EDOS_300, -0.5, 1.0) + 0.005  # a small floor in the gap (model noise)
    assert band_gap(EDOS_300, y, rel_tol=0.01).gap == pytest.approx(1.5, abs=0.05)
    assert band_gap(EDOS_300, y, rel_tol=0.001).gap == 0.0
    assert band_gap(EDOS_300, 1000 * y, rel_tol=0.01).gap == pytest.approx(1.5, abs=0.05)


def test_open_gap_at_the_grid_edge_is_a_lower_bound() -> None:
    y = np.where(EDOS_128.points <= -1.0, 1.0, 0.0)
    gap = band_gap(EDOS_128, y)
    assert gap.open_ended and gap.gap == pytest.approx(3.9375 + 1.0, abs=0.07)


def test_classes_and_sommerfeld_coefficient() -> None:
    assert classify(0.0) == "metal"
    assert classify(1.1) == "semiconductor"
    assert classify(5.0) == "insulator"
    assert classify(2.0, insulator_gap=1.5) == "insulator"
    # 1 state/eV per atom gives 2.357 mJ/(mol K^2) (standard conversion)
    assert sommerfeld_coefficient(1.0) == pytest.approx(2.3571, rel=1e-4)
    assert sommerfeld_coefficient(4.0, formula_units=2) == pytest.approx(2 * 2.3571, rel=1e-4)


def test_bad_inputs() -> None:
    with pytest.raises(CrystalDosError, match="outside the grid"):
        band_gap(EDOS_128, np.ones(128), fermi_level=5.0)
    with pytest.raises(CrystalDosError, match="no positive"):
        band_gap(EDOS_128, np.zeros(128))
    from crystaldos.spectra.grid import PHDOS_51

    with pytest.raises(CrystalDosError, match="electronic grid"):
        band_gap(PHDOS_51, np.ones(51))


def test_a_dip_in_the_valence_band_is_not_the_gap() -> None:
    """VBM-aligned diamond-like spectrum (as xTB gave it): the valence band is empty between
    -1.6 and -0.35 eV (a dip), filled -0.35..+0.4 (the smeared top) and empty from +0.4 to
    +5.5 eV (the real gap). The dip is the empty point nearest E_F; the old rule took it."""
    e = EDOS_300.points
    y = np.where((e < -1.6) | ((e > -0.36) & (e < 0.4)) | (e > 5.5), 1.0, 0.0)
    gap = band_gap(EDOS_300, y)
    assert gap.gap == pytest.approx(5.1, abs=0.06) and gap.vbm == pytest.approx(0.4, abs=0.06)
