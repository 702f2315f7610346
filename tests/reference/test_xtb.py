import numpy as np
import pytest

from crystaldos.reference import (
    SCF_ATTEMPTS,
    ReferenceCalculationError,
    gaussian_dos,
    local_dos,
    robust_singlepoint,
    total_dos,
    xtb_singlepoint,
)
from crystaldos.reference.xtb import XtbResult
from tests.conftest import rocksalt, silicon_primitive


@pytest.fixture(scope="module")
def salt():
    return xtb_singlepoint(rocksalt(5.64))


def test_projection_sums_to_the_total_and_counts_the_electrons(salt) -> None:
    np.testing.assert_allclose(salt.atom_weights.sum(axis=0), 1.0, atol=1e-8)
    grid = np.linspace(-25, 10, 3501)
    per_atom = local_dos(salt, grid, sigma=0.1)
    np.testing.assert_allclose(per_atom.sum(axis=0), total_dos(salt, grid, sigma=0.1),
                               atol=1e-8)
    occupied = grid <= 0.0  # the zero is mid-gap, so this integrates the occupied states
    electrons = np.trapezoid(per_atom[:, occupied], grid[occupied], axis=1)
    # GFN2 valence: Na 1, Cl 7; a Mulliken population is the valence count minus the charge
    valence = np.where(rocksalt().numbers == 11, 1.0, 7.0)
    np.testing.assert_allclose(electrons, valence - salt.charges, atol=1e-4)
    assert salt.charges[:4].min() > 0.3 and salt.charges[4:].max() < -0.3  # Na+ Cl-


def test_an_ionic_insulator_has_a_gap_and_symmetric_sites_feel_no_force(salt) -> None:
    assert salt.gap > 2.0
    assert salt.homo < salt.midgap < salt.lumo
    np.testing.assert_allclose(salt.forces, 0.0, atol=1e-4)


def test_forces_are_minus_the_energy_gradient_in_eV_per_angstrom() -> None:
    crystal = silicon_primitive()
    atoms = crystal.to_ase()
    atoms.positions[1] += [0.05, -0.03, 0.02]
    force = xtb_singlepoint(atoms).forces[1, 0]
    h = 0.002
    energies = []
    for sign in (1, -1):
        moved = atoms.copy()
        moved.positions[1, 0] += sign * h
        energies.append(xtb_singlepoint(moved).energy)
    assert abs(force) > 0.1
    assert force == pytest.approx(-(energies[0] - energies[1]) / (2 * h), rel=2e-3)


def test_gaussian_dos_integrates_to_two_states_per_level() -> None:
    grid = np.linspace(-5, 5, 2001)
    dos = gaussian_dos(np.array([-1.0, 0.5]), np.array([1.0, 0.25]), grid, 0.2)
    assert np.trapezoid(dos, grid) == pytest.approx(2.5, rel=1e-6)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_dos(np.zeros(1), np.ones(1), grid, 0.0)


def test_failure_names_the_structure() -> None:
    # two SCF cycles cannot converge the self-consistent charges of a rattled salt
    atoms = rocksalt(5.64).to_ase()
    atoms.positions += np.random.default_rng(0).normal(0, 0.2, atoms.positions.shape)
    with pytest.raises(ReferenceCalculationError, match=r"^rattled: GFN2-xTB failed.*SCF"):
        xtb_singlepoint(atoms, source="rattled", max_iterations=2)


def test_robust_singlepoint_falls_back_to_steadier_scf_settings(monkeypatch) -> None:
    import crystaldos.reference.xtb as xtb

    seen = []
    real = xtb.xtb_singlepoint

    def first_fails(atoms, **kwargs):
        seen.append((kwargs["electronic_temperature"], kwargs["mixer_damping"]))
        if len(seen) == 1:  # two SCF cycles: cannot converge
            return real(atoms, max_iterations=2, **kwargs)
        return real(atoms, **kwargs)

    monkeypatch.setattr(xtb, "xtb_singlepoint", first_fails)
    atoms = rocksalt(5.64).to_ase()
    atoms.positions += np.random.default_rng(0).normal(0, 0.2, atoms.positions.shape)
    result, attempt = robust_singlepoint(atoms, source="rattled")
    assert attempt == 1 and seen == list(SCF_ATTEMPTS[:2])
    assert result.gap > 1.0
    with pytest.raises(ReferenceCalculationError, match="rattled"):
        robust_singlepoint(atoms, attempts=(), source="rattled")


def test_a_partly_filled_degenerate_level_is_metallic_not_a_gap() -> None:
    """Six electrons over a single level and a triply degenerate one (4 electrons in 3 levels,
    occupation 4/3 each, as Fermi smearing gives a copper supercell): no gap."""
    levels = np.array([-5.0, -1.0, -1.0, -1.0, 3.0])
    metal = XtbResult(0.0, np.zeros((1, 3)), levels, np.array([2, 4 / 3, 4 / 3, 4 / 3, 0]),
                      np.ones((1, 5)), np.zeros(1))
    assert metal.gap == 0.0 and metal.midgap == -1.0
    insulator = XtbResult(0.0, np.zeros((1, 3)), levels, np.array([2, 2, 2, 2, 0.0]),
                          np.ones((1, 5)), np.zeros(1))
    assert insulator.gap == 4.0 and insulator.homo == -1.0


def test_copper_supercell_is_a_metal() -> None:
    """A 27-atom fcc Cu supercell: GFN2-xTB puts a partly filled degenerate level at E_F
    (the old occupation >= 1 rule reported an 8.2 eV gap)."""
    from ase.build import bulk

    result = xtb_singlepoint(bulk("Cu", "fcc", a=3.615) * (3, 3, 3))
    assert result.gap < 0.1
