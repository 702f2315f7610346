import numpy as np
import pytest

from crystaldos.physics.electronic import band_gap
from crystaldos.reference.edos import smeared_dos, supercell_repeats, xtb_edos
from crystaldos.spectra import EDOS_300
from crystaldos.structures.readers import from_arrays
from tests.conftest import rocksalt


def aluminium(a: float = 4.05):
    return from_arrays(0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]), ["Al"],
                       frac_coords=[[0, 0, 0]], id="Al")


def test_supercell_repeats_reach_the_height_and_respect_the_cap() -> None:
    assert supercell_repeats(np.eye(3) * 3.0, min_length=7.0, max_atoms=1000) == (3, 3, 3)
    # over the cap, the repeat that adds most length shrinks first (ties: the first axis)
    reps = supercell_repeats(np.diag([3.0, 3.0, 10.0]), min_length=7.0, max_atoms=8, n_atoms=1)
    assert reps == (2, 3, 1)
    assert supercell_repeats(np.eye(3) * 3.0, min_length=7.0, max_atoms=4, n_atoms=8) == (1, 1, 1)


def test_smeared_dos_counts_two_electrons_per_level_per_cell() -> None:
    dos = smeared_dos(np.array([-2.0, -1.0]), EDOS_300, sigma=0.1, n_cells=2)
    assert np.sum(dos) * EDOS_300.step == pytest.approx(2.0, rel=1e-3)


@pytest.fixture(scope="module")
def salt_edos():
    return xtb_edos(rocksalt(), min_length=5.0, max_atoms=16)


def test_an_insulator_is_aligned_at_its_valence_band_maximum_and_has_a_gap(salt_edos) -> None:
    ref = salt_edos
    assert ref.repeats == (1, 1, 1) and ref.gap > 2.0
    occupied = ref.levels[ref.levels <= 1e-9]
    assert occupied.max() == pytest.approx(0.0, abs=1e-9)  # the zero is the HOMO
    # GFN2 valence per NaCl cell (4 formula units): Na 1 + Cl 7
    assert ref.n_valence == pytest.approx(32.0, abs=1e-6)
    per_electron = ref.per_electron()
    # the window holds the Cl 3p band (6 of 8 electrons); Cl 3s lies at -18.6 eV, below it
    occupied_in_window = np.sum(per_electron[EDOS_300.points <= 0.5]) * EDOS_300.step
    assert occupied_in_window == pytest.approx(0.75, abs=0.01)
    gap = band_gap(EDOS_300, per_electron)
    assert gap.gap > 1.5 and not gap.open_ended


def test_a_metal_has_no_gap() -> None:
    ref = xtb_edos(aluminium(), min_length=5.0, max_atoms=16)
    # a Gamma-point supercell leaves a finite-size HOMO-LUMO splitting, far below the smearing
    assert np.prod(ref.repeats) <= 16 and ref.gap < 0.3
    assert band_gap(EDOS_300, ref.per_electron()).gap == 0.0
    assert ref.per_electron()[100] > 0.01  # states at the Fermi level
