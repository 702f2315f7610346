import numpy as np
import pytest

from crystaldos.errors import SpectrumError
from crystaldos.spectra import (
    NORMALIZATIONS,
    PHDOS_66,
    BinStandardizer,
    Grid,
    denormalize,
    normalize,
)

RNG = np.random.default_rng(1)
SPECTRA = RNG.uniform(0, 5, size=(4, 66))
CONTEXT = {"n_valence": np.array([8, 16, 24, 4]), "n_atoms": np.array([2, 4, 6, 1])}


@pytest.mark.parametrize("method", NORMALIZATIONS)
def test_round_trip_is_exact(method):
    normed, factor = normalize(SPECTRA, PHDOS_66, method, **CONTEXT)
    np.testing.assert_allclose(denormalize(normed, factor), SPECTRA, rtol=1e-14)
    one, f1 = normalize(SPECTRA[1], PHDOS_66, method, n_valence=16, n_atoms=4)
    np.testing.assert_allclose(one, normed[1], rtol=1e-14)
    assert np.ndim(f1) == 0


def test_hand_computed_factors():
    grid = Grid(0.0, 0.5, 4, "eV", "electronic")
    y = np.array([1.0, 3.0, 4.0, 2.0])  # max 4, sum 10, area 5
    assert normalize(y, grid, "max")[0].max() == 1.0
    assert normalize(y, grid, "sum")[0].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(normalize(y, grid, "area")[0], y / 5)
    np.testing.assert_allclose(normalize(y, grid, "valence", n_valence=8)[0], y / 8)
    modes, factor = normalize(y, grid, "modes3n", n_atoms=2)  # area must become 3N = 6
    assert modes.sum() * grid.step == pytest.approx(6.0) and factor == pytest.approx(5 / 6)


def test_errors():
    with pytest.raises(SpectrumError, match="needs n_atoms"):
        normalize(SPECTRA, PHDOS_66, "modes3n")
    with pytest.raises(SpectrumError, match="no positive maximum"):
        normalize(np.zeros(66), PHDOS_66, "max")
    with pytest.raises(SpectrumError, match="unknown normalization"):
        normalize(SPECTRA, PHDOS_66, "log")


def test_bin_standardizer_uses_training_data_only():
    train, test = RNG.normal(2, 3, (50, 66)), RNG.normal(10, 1, (5, 66))
    train[:, 0] = 0.0  # a constant bin stays invertible
    scaler = BinStandardizer().fit(train)
    z = scaler.transform(train)
    np.testing.assert_allclose(z[:, 1:].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z[:, 1:].std(0), 1, atol=1e-12)
    np.testing.assert_allclose(scaler.mean, train.mean(0))  # nothing of `test` leaks in
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test)
    again = BinStandardizer.from_dict(scaler.to_dict())
    np.testing.assert_allclose(again.transform(test), scaler.transform(test))
