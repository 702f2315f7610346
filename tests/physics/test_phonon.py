import numpy as np
import pytest

from crystaldos.errors import CrystalDosError
from crystaldos.physics.analytic import analytic_modes, debye_dos, debye_heat_capacity
from crystaldos.physics.constants import K_B, N_A, R_GAS, angular_frequency
from crystaldos.physics.phonon import (
    PhononModes,
    debye_temperature,
    debye_temperature_from_elastic,
    heat_capacity_at_debye_fraction,
    is_dynamically_stable,
    isotope_mass_variance,
    isotope_scattering_rates,
    mean_isotope_scattering_rate,
    modes_from_dos,
    negative_mode_fraction,
    rescale_to_modes,
    thermal_properties,
)
from crystaldos.spectra.grid import PHDOS_51, PHDOS_66, Grid

FINE = Grid(0.25, 0.5, 2400, "cm^-1", "phonon")  # bins centred at 0.25, 0.75, ... cm^-1


def gaussian_dos(grid: Grid, centre: float = 300.0, width: float = 80.0) -> np.ndarray:
    return np.exp(-0.5 * ((grid.points - centre) / width) ** 2)


def test_rescaling_gives_3n_modes_whatever_the_normalization() -> None:
    y = gaussian_dos(PHDOS_51)
    for scale in (1.0, 1 / y.max(), 37.0):
        g = rescale_to_modes(PHDOS_51, scale * y, n_atoms=5)
        assert g.sum() * PHDOS_51.step == pytest.approx(15.0, rel=1e-12)
    thz = PHDOS_51.converted("THz")
    assert rescale_to_modes(thz, y, 2).sum() * thz.step == pytest.approx(6.0, rel=1e-12)


def test_dulong_petit_limit() -> None:
    modes = modes_from_dos(PHDOS_51, gaussian_dos(PHDOS_51), n_atoms=4)
    cv = thermal_properties(modes, 1e5).heat_capacity[0] * N_A
    assert abs(cv / (3 * 4 * R_GAS) - 1) < 1e-3


def test_debye_dos_reproduces_the_debye_function() -> None:
    theta = 400.0
    modes = modes_from_dos(FINE, debye_dos(FINE, theta, n_atoms=2), n_atoms=2)
    for ratio in (0.05, 0.1, 0.25, 0.5, 1.0, 2.0):
        ours = thermal_properties(modes, ratio * theta).heat_capacity[0]
        exact = debye_heat_capacity(ratio * theta, theta, n_atoms=2)[0]
        assert abs(ours / exact - 1) < 1e-3, ratio
    # the low-temperature T^3 law of the Debye function itself
    t = 0.01 * theta
    t3 = 12 * np.pi**4 / 5 * 2 * K_B * (t / theta) ** 3
    assert debye_heat_capacity(t, theta, 2)[0] == pytest.approx(t3, rel=1e-6)


def test_moment_debye_temperatures_recover_a_debye_spectrum() -> None:
    modes = modes_from_dos(FINE, debye_dos(FINE, 350.0, 1), 1)
    for n in (-2, -1, 0, 1, 2, 4):
        assert debye_temperature(modes, n) == pytest.approx(350.0, rel=2e-3)
    with pytest.raises(CrystalDosError, match="greater than -3"):
        debye_temperature(modes, -3)
    cv_half = heat_capacity_at_debye_fraction(modes, 0.5)
    assert cv_half == pytest.approx(debye_heat_capacity(175.0, 350.0, 1)[0], rel=2e-3)


def test_thermodynamic_identities() -> None:
    modes = modes_from_dos(PHDOS_66, gaussian_dos(PHDOS_66, 400, 150), n_atoms=3)
    temps = np.array([0.0, 10.0, 100.0, 300.0, 1000.0])
    tp = thermal_properties(modes, temps)
    assert tp.heat_capacity[0] == 0 and tp.entropy[0] == 0
    assert tp.internal_energy[0] == tp.free_energy[0] == tp.zero_point_energy
    # F = U - T S, and S = -dF/dT, Cv = dU/dT (finite differences)
    np.testing.assert_allclose(tp.free_energy, tp.internal_energy - temps * tp.entropy,
                               rtol=1e-10, atol=1e-30)
    h = 1e-3
    for t in (100.0, 300.0):
        lo, hi = thermal_properties(modes, [t - h, t + h]).free_energy
        assert -(hi - lo) / (2 * h) == pytest.approx(thermal_properties(modes, t).entropy[0],
                                                     rel=1e-5)
        lo, hi = thermal_properties(modes, [t - h, t + h]).internal_energy
        assert (hi - lo) / (2 * h) == pytest.approx(thermal_properties(modes, t)
                                                    .heat_capacity[0], rel=1e-5)
    with pytest.raises(CrystalDosError, match=">= 0 K"):
        thermal_properties(modes, -1.0)


def test_negative_frequencies_are_flagged_and_left_out() -> None:
    y = gaussian_dos(PHDOS_66, 300, 60) + 0.5 * gaussian_dos(PHDOS_66, -150, 40)
    modes = modes_from_dos(PHDOS_66, y, n_atoms=2)
    fraction = negative_mode_fraction(modes)
    expected = y[PHDOS_66.points < 0].sum() / y.sum()
    assert fraction == pytest.approx(expected)
    assert 0.2 < fraction < 0.3
    assert is_dynamically_stable(modes) is False
    assert is_dynamically_stable(modes, threshold=0.5) is True
    tp = thermal_properties(modes, 1e5)
    assert tp.n_thermal_modes == pytest.approx(6 * (1 - fraction) - modes.weights[
        PHDOS_66.points == 0].sum())
    assert tp.heat_capacity[0] == pytest.approx(K_B * tp.n_thermal_modes, rel=1e-6)
    # a grid that starts at 0 cannot show imaginary modes: unknown, not "stable"
    mp = modes_from_dos(PHDOS_51, gaussian_dos(PHDOS_51), 2)
    assert np.isnan(negative_mode_fraction(mp)) and is_dynamically_stable(mp) is None


def test_bad_spectra_are_clear_errors() -> None:
    with pytest.raises(CrystalDosError, match="no positive values"):
        modes_from_dos(PHDOS_51, np.zeros(51), 2)
    with pytest.raises(CrystalDosError, match="grid has 51 points"):
        modes_from_dos(PHDOS_51, np.ones(50), 2)
    with pytest.raises(CrystalDosError, match="NaN"):
        modes_from_dos(PHDOS_51, np.full(51, np.nan), 2)
    from crystaldos.spectra.grid import EDOS_300

    with pytest.raises(CrystalDosError, match="phonon grid"):
        modes_from_dos(EDOS_300, np.ones(300), 2)


def _phonopy_fcc_spring_model():
    """A real phonopy calculation: fcc lattice, nearest-neighbour central springs."""
    import phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    a = 3.6
    unit = PhonopyAtoms(symbols=["Cu"], cell=0.5 * a * (np.ones((3, 3)) - np.eye(3)),
                        scaled_positions=[[0, 0, 0]])
    ph = phonopy.Phonopy(unit, supercell_matrix=np.diag([4, 4, 4]))
    sc = ph.supercell
    pos, cell = sc.positions, sc.cell
    n = len(pos)
    fc = np.zeros((n, n, 3, 3))
    k = 2.0  # eV/Å^2
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            d = pos[j] - pos[i]
            d -= np.round(d @ np.linalg.inv(cell)) @ cell
            r = np.linalg.norm(d)
            if abs(r - a / np.sqrt(2)) < 1e-3:
                u = d / r
                fc[i, j] -= k * np.outer(u, u)
    for i in range(n):
        fc[i, i] = -fc[i].sum(axis=0)
    ph.force_constants = fc
    ph.run_mesh([9, 9, 9], is_gamma_center=False)
    return ph


def test_heat_capacity_and_entropy_match_phonopy() -> None:
    import warnings

    ph = _phonopy_fcc_spring_model()
    temps = np.array([20.0, 100.0, 300.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ph.run_thermal_properties(temperatures=temps)
        ref = ph.get_thermal_properties_dict()
        mesh = ph.get_mesh_dict()
    freqs_thz, qweights = mesh["frequencies"], mesh["weights"]
    n_bands = freqs_thz.shape[1]
    weights = np.repeat(qweights[:, None], n_bands, axis=1) / qweights.sum()
    modes = PhononModes(angular_frequency(freqs_thz.ravel(), "THz")
                        / angular_frequency(1.0, "cm^-1"), weights.ravel(), n_atoms=1)
    ours = thermal_properties(modes, temps)
    # phonopy's own constants differ from CODATA 2022 (scipy) by ~1e-6, hence rtol 1e-5
    np.testing.assert_allclose(ours.heat_capacity * N_A, ref["heat_capacity"], rtol=1e-5)
    np.testing.assert_allclose(ours.entropy * N_A, ref["entropy"], rtol=1e-5)
    np.testing.assert_allclose(ours.free_energy * N_A / 1000, ref["free_energy"], rtol=1e-5)


@pytest.mark.parametrize(("element", "gamma"), [("Si", 2.0e-4), ("Ge", 5.87e-4)])
def test_isotope_mass_variance_of_natural_elements(element: str, gamma: float) -> None:
    # literature: Si 2.01e-4 (Tamura 1983), Ge 5.87e-4 (Asen-Palmer et al. 1997)
    assert isotope_mass_variance([element, element]) == pytest.approx(gamma, rel=0.01)


def test_isotope_variance_of_compounds_and_single_isotope_elements() -> None:
    assert isotope_mass_variance(["Al"]) == 0.0  # one stable isotope
    assert isotope_mass_variance(["Tc"]) == 0.0  # no natural mix: standard mass, no variance
    # dilution: a Ge atom among Al atoms contributes c (m_Ge / m)^2 Gamma_Ge
    mix = isotope_mass_variance(["Ge", "Al", "Al", "Al"])
    m_ge, m_al = 72.63, 26.98
    mean = 0.25 * m_ge + 0.75 * m_al
    assert mix == pytest.approx(0.25 * (m_ge / mean) ** 2 * 5.87e-4, rel=0.01)


def test_isotope_rate_of_a_debye_spectrum_is_the_rayleigh_law() -> None:
    theta = 500.0
    modes = modes_from_dos(FINE, debye_dos(FINE, theta, 2), 2)
    gamma = 2e-4
    rates = isotope_scattering_rates(modes, gamma)
    omega = angular_frequency(modes.frequencies, "cm^-1")
    omega_d = theta * K_B / 1.054571817e-34
    inside = (omega > 0.05 * omega_d) & (omega < 0.95 * omega_d)
    klemens = 1.5 * np.pi * gamma * omega**4 / omega_d**3  # V Gamma w^4 / (4 pi v^3)
    np.testing.assert_allclose(rates[inside], klemens[inside], rtol=2e-3)
    assert mean_isotope_scattering_rate(modes, gamma) == pytest.approx(
        (klemens * modes.weights).sum() / modes.weights.sum(), rel=2e-3)


def test_elastic_debye_temperature_of_aluminium() -> None:
    # Al: K = 76 GPa, G = 26 GPa, rho = 2.70 g/cm^3, 4 atoms per (4.05 Å)^3 -> about 430 K
    theta = debye_temperature_from_elastic(76.0, 26.0, 2.70, 4 / 4.05**3)
    assert 400 < theta < 440


def test_quadrature_and_grid_debye_models_agree() -> None:
    q = analytic_modes("debye", 300.0, 2)
    g = modes_from_dos(FINE, debye_dos(FINE, 300.0, 2), 2)
    for t in (30.0, 300.0):
        assert thermal_properties(q, t).entropy[0] == pytest.approx(
            thermal_properties(g, t).entropy[0], rel=1e-3)
