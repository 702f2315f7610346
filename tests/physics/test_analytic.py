import numpy as np
import pytest

from crystaldos.errors import CrystalDosError
from crystaldos.physics.analytic import (
    analytic_modes,
    bvk_dos,
    bvk_max_frequency,
    debye_heat_capacity,
    matched_debye_temperature,
)
from crystaldos.physics.constants import wavenumber_from_temperature
from crystaldos.physics.phonon import debye_temperature, modes_from_dos, thermal_properties
from crystaldos.spectra.grid import Grid

FINE = Grid(0.25, 0.5, 2400, "cm^-1", "phonon")


def test_bvk_dos_has_3n_modes_below_its_maximum() -> None:
    g = bvk_dos(FINE, 400.0, n_atoms=3)
    assert g.sum() * FINE.step == pytest.approx(9.0, rel=1e-12)
    nu_max = bvk_max_frequency(400.0)
    assert nu_max == pytest.approx(2 / np.pi * wavenumber_from_temperature(400.0))
    assert np.all(g[FINE.points > nu_max + FINE.step] == 0)
    # same sound velocity as Debye: the low-frequency DOS is 9 N nu^2 / nu_D^3 (bin averages of
    # nu^2 are p^2 + step^2 / 12)
    nu_d = wavenumber_from_temperature(400.0)
    low = FINE.points < 0.02 * nu_d
    nu2 = FINE.points[low] ** 2 + FINE.step**2 / 12
    np.testing.assert_allclose(g[low], 9 * 3 * nu2 / nu_d**3, rtol=3e-3)


def test_bvk_is_softer_than_debye_at_equal_sound_velocity() -> None:
    debye = analytic_modes("debye", 400.0, 1)
    bvk = analytic_modes("bvk", 400.0, 1)
    assert thermal_properties(bvk, 100.0).heat_capacity[0] > \
        thermal_properties(debye, 100.0).heat_capacity[0]
    grid_bvk = modes_from_dos(FINE, bvk_dos(FINE, 400.0, 1), 1)
    for t in (50.0, 300.0):
        assert thermal_properties(grid_bvk, t).heat_capacity[0] == pytest.approx(
            thermal_properties(bvk, t).heat_capacity[0], rel=2e-3)


def test_matched_parameters_reproduce_the_moment() -> None:
    modes = analytic_modes("debye", 500.0, 2)
    theta = matched_debye_temperature("bvk", modes)
    assert debye_temperature(analytic_modes("bvk", theta, 2)) == pytest.approx(500.0, rel=1e-9)
    assert matched_debye_temperature("debye", modes) == pytest.approx(500.0, rel=1e-9)


def test_debye_function_high_temperature_and_errors() -> None:
    from crystaldos.physics.constants import K_B

    assert debye_heat_capacity(1e5, 300.0, 2)[0] == pytest.approx(6 * K_B, rel=1e-6)
    assert debye_heat_capacity(0.0, 300.0, 2)[0] == 0.0
    with pytest.raises(CrystalDosError, match="positive"):
        analytic_modes("debye", -1.0, 1)
    with pytest.raises(CrystalDosError, match="unknown analytic model"):
        analytic_modes("einstein", 300.0, 1)
