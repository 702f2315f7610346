import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from crystaldos.evaluation import (
    MeanSpectrumBaseline,
    mae,
    mae_per_spectrum,
    mae_to_mad,
    mse,
    r2_mean,
    r2_per_spectrum,
    r2_variance_weighted,
    relative_error_per_spectrum,
    spectrum_metrics,
    wasserstein_per_spectrum,
)
from crystaldos.spectra import Grid

GRID = Grid(0.0, 10.0, 4, "cm^-1", "phonon")
TRUE = np.array([[0.0, 1.0, 2.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
PRED = np.array([[0.0, 2.0, 2.0, 0.0], [1.0, 1.0, 1.0, 3.0]])


def test_mae_mse_hand_computed():
    np.testing.assert_allclose(mae_per_spectrum(PRED, TRUE), [0.5, 0.5])
    assert mae(PRED, TRUE) == 0.5
    assert mse(PRED, TRUE) == pytest.approx((0.5 + 1.0) / 2)  # (1+1)/4 and 4/4


def test_relative_error_hand_computed():
    # means: true 1.0 and 1.0; pred 1.0 and 1.5
    np.testing.assert_allclose(relative_error_per_spectrum(PRED, TRUE), [0.0, 0.5])


def test_r2_forms():
    # spectrum 0: ss_res = 2, ss_tot = 1+0+1+0 = 2 -> R2 = 0; spectrum 1 flat -> NaN
    r2 = r2_per_spectrum(PRED, TRUE)
    assert r2[0] == pytest.approx(0.0) and np.isnan(r2[1])
    assert r2_mean(PRED, TRUE) == pytest.approx(0.0)
    # variance weighted across spectra per bin: ss_tot per bin = [.5, 0, .5, 0]; ss_res = [0,1,0,5]
    assert r2_variance_weighted(PRED, TRUE) == pytest.approx(1 - 6 / 1.0)


def test_r2_variance_weighted_equals_weighted_mean_of_bin_r2():
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 1, (30, 6))
    p = t + rng.normal(0, 0.2, t.shape)
    var = t.var(axis=0)
    per_bin = 1 - ((t - p) ** 2).sum(0) / ((t - t.mean(0)) ** 2).sum(0)
    assert r2_variance_weighted(p, t) == pytest.approx((per_bin * var).sum() / var.sum())


def test_wasserstein_matches_scipy_in_grid_units():
    w = wasserstein_per_spectrum(PRED, TRUE, GRID)
    for k in range(2):
        ref = wasserstein_distance(GRID.points, GRID.points, PRED[k], TRUE[k])
        assert w[k] == pytest.approx(ref)
    # a unit spike moved by one bin costs exactly one step
    a, b = np.array([[0, 1.0, 0, 0]]), np.array([[0, 0, 1.0, 0]])
    assert wasserstein_per_spectrum(a, b, GRID)[0] == pytest.approx(10.0)


def test_mae_to_mad_and_baseline():
    t = np.array([1.0, 2.0, 3.0, 6.0])  # mean 3, MAD = (2+1+0+3)/4 = 1.5
    assert mae_to_mad(t + 0.3, t) == pytest.approx(0.2)
    assert mae_to_mad(np.full(4, 3.0), t) == pytest.approx(1.0)
    base = MeanSpectrumBaseline().fit(TRUE)
    np.testing.assert_allclose(base.predict(3), np.tile([0.5, 1.0, 1.5, 1.0], (3, 1)))
    metrics = spectrum_metrics(base.predict(2), TRUE, GRID)
    assert metrics["n_spectra"] == 2 and metrics["mae"] == pytest.approx(0.25)


def test_unit_mean_and_computed_window_compare_only_where_the_reference_has_bands() -> None:
    from crystaldos.evaluation.metrics import computed_window, unit_mean
    from crystaldos.spectra.grid import EDOS_300

    e = EDOS_300.points
    full = np.where(e < 0, 2.0, 1.0)
    cut = np.where(e < 4.0, full, 0.0)  # a code that computed no bands above 4 eV
    window = computed_window(EDOS_300, np.stack([full, cut]))
    assert window[0].all()  # reaches the top of the grid: all of it
    assert e[window[1]].max() == pytest.approx(3.45, abs=1e-9)  # 0.5 eV below its last state
    scaled = unit_mean(np.stack([full, cut]), window)
    assert scaled[1][window[1]].mean() == pytest.approx(1.0)
    assert np.all(scaled[1][~window[1]] == 0)
    # within the window the truncated spectrum has the full one's shape
    np.testing.assert_allclose(unit_mean(full[None], window[1:])[0], scaled[1])
    np.testing.assert_allclose(unit_mean(full[None])[0].mean(), 1.0)
