import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from crystaldos.evaluation.xtal2dos_protocol import unit_sum, xtal2dos_metrics


def test_hand_computed_example() -> None:
    true = np.array([[0.0, 0.0, 2.0], [1.0, 1.0, 0.0]])
    pred = np.array([[3.0, 0.0, 0.0], [1.0, 1.0, 0.0]])  # first: all mass two bins away
    m = xtal2dos_metrics(pred, true)
    # unit sums: true [0,0,1], [.5,.5,0]; pred [1,0,0], [.5,.5,0]
    assert m["mae"] == pytest.approx(2.0 / 6)
    assert m["mse"] == pytest.approx(2.0 / 6)
    assert m["wd"] == pytest.approx((2.0 + 0.0) / 2 * 0.0625)
    # variance-weighted R2 by hand: per bin SS_res = [0.5, 0, 1] ... computed on unit sums
    t = np.array([[0, 0, 1], [0.5, 0.5, 0]])
    p = np.array([[1, 0, 0], [0.5, 0.5, 0]])
    ss_res = ((t - p) ** 2).sum()
    ss_tot = ((t - t.mean(axis=0)) ** 2).sum()
    assert m["r2"] == pytest.approx(1 - ss_res / ss_tot)
    assert m["n_spectra"] == 2


def test_matches_scipy_and_sklearn_definitions() -> None:
    rng = np.random.default_rng(0)
    true, pred = rng.random((20, 51)), rng.random((20, 51))
    m = xtal2dos_metrics(pred, true, bin_width=1.0)
    bins = np.arange(51)
    wd = np.mean([wasserstein_distance(bins, bins, p, t) for p, t in
                  zip(unit_sum(pred), unit_sum(true), strict=True)])
    assert m["wd"] == pytest.approx(wd, rel=1e-10)
    from sklearn.metrics import r2_score

    assert m["r2"] == pytest.approx(r2_score(unit_sum(true), unit_sum(pred),
                                             multioutput="variance_weighted"), rel=1e-10)


def test_scale_invariance_and_clipping() -> None:
    rng = np.random.default_rng(1)
    true, pred = rng.random((5, 10)), rng.random((5, 10))
    a = xtal2dos_metrics(pred, true)
    b = xtal2dos_metrics(7 * pred, 0.1 * true)
    assert a == pytest.approx(b)
    assert unit_sum(np.array([-1.0, 1.0, 3.0])).tolist() == [[0.0, 0.25, 0.75]]
    assert unit_sum(np.zeros(3)).tolist() == [[0.0, 0.0, 0.0]]
