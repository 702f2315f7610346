import numpy as np
import pytest

from crystaldos.errors import SpectrumError
from crystaldos.spectra import EDOS_128, EDOS_300, PHDOS_51, PHDOS_66, Grid, Spectrum, preset


def test_presets_match_reference_grids():
    np.testing.assert_allclose(PHDOS_66.points, np.arange(-300, 1001, 20))
    np.testing.assert_allclose(PHDOS_51.points, np.arange(0, 1001, 20))
    assert EDOS_300.count == 300 and EDOS_300.start == -5 and EDOS_300.step == 0.05
    assert EDOS_300.stop == pytest.approx(9.95)
    assert EDOS_128.count == 128 and EDOS_128.start == -4 and EDOS_128.stop < 4
    assert preset("phdos66") is PHDOS_66


def test_edges_and_dict_round_trip():
    g = Grid(0.0, 2.0, 3, "cm^-1", "phonon")
    np.testing.assert_allclose(g.edges, [-1, 1, 3, 5])
    assert Grid.from_dict(g.to_dict()) == g
    assert Grid.from_points(np.arange(-300, 1001, 20.0), "cm^-1", "phonon") == PHDOS_66


def test_unit_conversion_round_trip():
    thz = PHDOS_66.converted("THz")
    assert thz.stop == pytest.approx(1000 / 33.35641, rel=1e-6)
    back = thz.converted("cm^-1")
    assert back.start == pytest.approx(-300) and back.step == pytest.approx(20)


@pytest.mark.parametrize("args", [(0, 0.0, 10, "eV", "electronic"), (0, 1, 1, "eV", "electronic"),
                                  (0, 1, 10, "cm^-1", "electronic"), (0, 1, 10, "eV", "magnon")])
def test_bad_grids_are_rejected(args):
    with pytest.raises(SpectrumError):
        Grid(*args)


def test_spectrum_checks_length_and_area():
    s = Spectrum(np.ones(51), PHDOS_51)
    assert s.area == pytest.approx(51 * 20)
    with pytest.raises(SpectrumError, match="51"):
        Spectrum(np.ones(50), PHDOS_51)
    n = s.normalized("area")
    assert n.area == pytest.approx(1.0) and n.scale == pytest.approx(51 * 20)
