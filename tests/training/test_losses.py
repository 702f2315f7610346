import pytest
import torch

from crystaldos.training.losses import (
    LOSSES,
    cdf_distance,
    get_loss,
    kl_loss,
    wasserstein_loss,
)


def test_pointwise_losses_match_definitions() -> None:
    pred = torch.tensor([[0.0, 1.0, 2.0]])
    true = torch.tensor([[0.0, 0.0, 0.0]])
    assert float(LOSSES["mse"](pred, true)) == pytest.approx(5 / 3)
    assert float(LOSSES["mae"](pred, true)) == pytest.approx(1.0)


def test_shape_losses_vanish_for_equal_shapes_at_any_scale() -> None:
    y = torch.rand(4, 20) + 0.1
    assert float(kl_loss(3.0 * y, y)) == pytest.approx(0.0, abs=1e-6)
    assert float(wasserstein_loss(3.0 * y, y)) == pytest.approx(0.0, abs=1e-5)


def test_wasserstein_of_shifted_peak_is_the_shift_in_grid_steps() -> None:
    a = torch.zeros(1, 10)
    b = torch.zeros(1, 10)
    a[0, 2] = 1.0
    b[0, 5] = 1.0
    assert float(wasserstein_loss(a, b)) == pytest.approx(3.0, rel=1e-4)


def test_cdf_distance_is_the_shift_as_a_fraction_of_the_masked_span() -> None:
    a = torch.zeros(2, 10)
    b = torch.zeros(2, 10)
    a[:, 2] = 1.0
    b[:, 5] = 4.0  # any scale
    assert cdf_distance(a, b).tolist() == pytest.approx([0.3, 0.3], rel=1e-4)
    mask = torch.zeros(2, 10)
    mask[0, :6] = 1.0  # a 6-bin window holding both peaks
    mask[1, :4] = 1.0  # a 4-bin window holding only a's peak: b is flat (eps) there
    a[:, 8] = 9.0  # outside both windows: ignored
    d = cdf_distance(a, b, mask)
    assert float(d[0]) == pytest.approx(3 / 6, rel=1e-4)
    flat = torch.full((1, 4), 0.25)  # the flat spectrum's distance to a peak at bin 2
    expected = float(torch.abs(torch.cumsum(flat, -1) - torch.tensor([[0, 0, 1.0, 1.0]])).sum())
    assert float(d[1]) == pytest.approx(expected / 4, rel=1e-3)
    assert float(wasserstein_loss(a[:, :6], b[:, :6])) == pytest.approx(3.0, rel=1e-4)


def test_kl_is_positive_for_different_shapes() -> None:
    a = torch.tensor([[1.0, 0.0, 1.0]])
    b = torch.tensor([[0.0, 1.0, 0.0]])
    assert float(kl_loss(a, b)) > 1.0


def test_unknown_loss_is_named() -> None:
    with pytest.raises(ValueError, match="unknown loss 'huber'"):
        get_loss("huber")


def test_generalized_kl_is_zero_only_at_equality_and_sees_the_total() -> None:
    gkl, kl = get_loss("gkl"), get_loss("kl")
    t = torch.tensor([[0.2, 0.5, 0.3]])
    assert gkl(t, t).item() == pytest.approx(0.0, abs=1e-6)
    # twice the spectrum: same shape (KL 0) but a different total (GKL = sum(2t - t - t log 2))
    assert kl(2 * t, t).item() == pytest.approx(0.0, abs=1e-6)
    expected = float((2 * t - t - t * torch.log(torch.tensor(2.0))).sum())
    assert gkl(2 * t, t).item() == pytest.approx(expected, rel=1e-4)
    assert gkl(t.flip(-1), t).item() > 0
