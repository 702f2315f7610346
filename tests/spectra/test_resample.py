import numpy as np
import pytest
from scipy.stats import norm

from crystaldos.errors import SpectrumError
from crystaldos.spectra import Grid, resample, smear_levels

GRID = Grid(0.0, 1.0, 5, "eV", "electronic")  # bins [-0.5,0.5], [0.5,1.5], ... [3.5,4.5]


def test_constant_function_hand_example():
    # f = 2 on [0, 4]: bin 0 is half covered (1.0), bins 1-3 full (2.0), bin 4 half (1.0)
    out = resample([0.0, 4.0], [2.0, 2.0], GRID)
    np.testing.assert_allclose(out, [1.0, 2.0, 2.0, 2.0, 1.0])


def test_linear_ramp_hand_example():
    # f = x on [0, 2]: bin 0 integral of x over [0, .5] = .125; bin 1 over [.5, 1.5] = 1;
    # bin 2 over [1.5, 2] = (4 - 2.25) / 2 = .875
    out = resample([0.0, 2.0], [0.0, 2.0], GRID)
    np.testing.assert_allclose(out, [0.125, 1.0, 0.875, 0.0, 0.0])


def test_area_is_conserved_for_irregular_energies():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-4.5, 9.5, 700))
    y = rng.uniform(0, 3, 700)
    grid = Grid(-5.0, 0.05, 300, "eV", "electronic")
    out = resample(x, y, grid)
    assert out.sum() * grid.step == pytest.approx(np.trapezoid(y, x), rel=1e-12)
    batch = resample(x, np.stack([y, 2 * y]), grid)
    np.testing.assert_allclose(batch[1], 2 * out)


def test_unsorted_input_is_sorted_first():
    x = np.array([3.0, 0.0, 1.0])
    y = np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(resample(x, y, GRID), resample(x[[1, 2, 0]], y[[1, 2, 0]], GRID))


def test_smear_levels_integrates_gaussians_exactly():
    grid = Grid(-2.0, 0.5, 9, "eV", "electronic")
    out = smear_levels([0.0], grid, sigma=0.4)
    expected = np.diff(norm.cdf(grid.edges, scale=0.4)) / grid.step
    np.testing.assert_allclose(out, expected, rtol=1e-8)
    total = smear_levels([0.0, 0.3, -0.2], grid, 0.1, weights=[1, 2, 3]).sum() * grid.step
    assert total == pytest.approx(6.0)


def test_rebin_conserves_area_and_lands_exactly_on_subset_grids() -> None:
    from crystaldos.spectra.grid import PHDOS_51, PHDOS_66, PHDOS_221
    from crystaldos.spectra.resample import rebin

    rng = np.random.default_rng(0)
    wide = rng.random(PHDOS_221.count)
    on66 = rebin(wide, PHDOS_221, PHDOS_66)
    np.testing.assert_allclose(on66, wide[:66])  # phdos66 points are the first 66 of phdos221
    on51 = rebin(wide, PHDOS_221, PHDOS_51)
    np.testing.assert_allclose(on51, wide[15:66])
    # 10 cm^-1 fine bins onto 20 cm^-1 bins: pairs are averaged, area kept
    from crystaldos.reference.phonondb import FINE_GRID

    fine = np.zeros(FINE_GRID.count)
    fine[(FINE_GRID.points > 0) & (FINE_GRID.points < 900)] = 1.0
    coarse = rebin(fine, FINE_GRID, PHDOS_221)
    assert coarse.sum() * 20.0 == pytest.approx(fine.sum() * 10.0)


def test_rebin_converts_units_conserving_states() -> None:
    from crystaldos.spectra.grid import PHDOS_51, Grid
    from crystaldos.spectra.resample import rebin

    thz = Grid(0.0, 0.5, 70, "THz", "phonon")
    values = np.exp(-((PHDOS_51.points - 400.0) / 80.0) ** 2)
    out = rebin(values, PHDOS_51, thz)
    assert out.sum() * thz.step == pytest.approx(values.sum() * PHDOS_51.step, rel=1e-9)
    with pytest.raises(SpectrumError, match="cannot rebin"):
        rebin(np.ones(300), Grid(-5.0, 0.05, 300, "eV", "electronic"), PHDOS_51)
