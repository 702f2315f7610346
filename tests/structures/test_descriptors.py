import numpy as np
import pytest

from crystaldos.structures.descriptors import crystal_descriptors, descriptor_names
from crystaldos.structures.readers import from_arrays
from tests.conftest import rocksalt, silicon_primitive


def value(crystal, name: str) -> float:
    return float(crystal_descriptors(crystal)[descriptor_names().index(name)])


def test_every_descriptor_is_named_and_finite_for_common_crystals() -> None:
    for crystal in (rocksalt(), silicon_primitive()):
        x = crystal_descriptors(crystal)
        assert x.shape == (len(descriptor_names()),) and np.isfinite(x).all()


def test_descriptors_read_chemistry_not_cell_size() -> None:
    nacl = rocksalt()  # the 8-atom conventional cell
    primitive = from_arrays(0.5 * 5.64 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]),
                            ["Na", "Cl"], frac_coords=[[0, 0, 0], [0.5, 0.5, 0.5]])
    np.testing.assert_allclose(crystal_descriptors(nacl), crystal_descriptors(primitive))
    assert value(nacl, "share_metal_atoms") == 0.5
    assert value(nacl, "charge_imbalance_common") == 0.0
    assert value(nacl, "electronegativity_max") == pytest.approx(3.16)


def test_odd_electron_count_and_imbalance_flag_metals() -> None:
    copper = from_arrays(3.61 * 0.5 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]), ["Cu"],
                         frac_coords=[[0, 0, 0]])
    assert value(copper, "odd_electrons_primitive_cell") == 1.0  # 11 valence electrons
    conventional = from_arrays(3.61 * np.eye(3), ["Cu"] * 4,
                               frac_coords=[[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    assert value(conventional, "odd_electrons_primitive_cell") == 1.0  # 44 in the cube
    assert value(silicon_primitive(), "odd_electrons_primitive_cell") == 0.0
    ba4nage = from_arrays(8.0 * np.eye(3), ["Ba"] * 4 + ["Na", "Ge"],
                          frac_coords=np.random.default_rng(0).random((6, 3)))
    assert value(ba4nage, "charge_imbalance_common") == pytest.approx(5 / 6)


def test_potential_descriptors_are_named_and_leave_cell_size_out() -> None:
    pytest.importorskip("chgnet")
    from crystaldos.structures.descriptors import descriptor_matrix

    nacl = rocksalt()  # 8 atoms
    primitive = from_arrays(0.5 * 5.64 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]),
                            ["Na", "Cl"], frac_coords=[[0, 0, 0], [0.5, 0.5, 0.5]])
    x = descriptor_matrix([nacl, primitive], uip="chgnet")
    names = descriptor_names("chgnet")
    assert x.shape == (2, len(names)) and np.isfinite(x).all()
    assert names[:len(descriptor_names())] == descriptor_names()
    assert "chgnet_n_atoms" not in names and "chgnet_mean_abs_magmom_muB" in names
    np.testing.assert_allclose(x[0], x[1], atol=2e-3)  # the same crystal, two cells
    with pytest.raises(ValueError, match="unknown potential"):
        descriptor_names("mace")
