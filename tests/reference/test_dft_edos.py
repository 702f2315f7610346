import numpy as np
import pytest

from crystaldos.reference.dft_edos import (
    DFTSettings,
    band_edges,
    scf_convergence,
    spin_polarized,
)
from tests.conftest import rocksalt


def test_insulator_edges_come_from_band_counting() -> None:
    k = np.linspace(0, 1, 4)
    eps = np.stack([np.full(4, -6.0), -1.0 - k, 2.0 + k, 5.0 + k], axis=1)[None]  # (1, 4, 4)
    edges = band_edges(eps, [2.0])  # 4 electrons fill two bands
    assert not edges.is_metal and edges.vbm == -1.0 and edges.cbm == 2.0 and edges.gap == 3.0


def test_overlapping_bands_and_odd_counts_are_metals() -> None:
    k = np.linspace(0, 1, 4)
    semimetal = np.stack([-2.0 + 3 * k, 0.5 - 1.0 * k], axis=1)[None]  # band 1 dips below top
    assert band_edges(semimetal, [1.0]).is_metal
    sodium_like = np.stack([-3.0 + 4 * k, 4.0 + k], axis=1)[None]
    assert band_edges(sodium_like, [0.5]).is_metal  # one electron: a half-filled band


def test_a_partly_filled_degenerate_level_is_a_metal() -> None:
    """Gamma only: a triply degenerate level holding 4 electrons (copper-supercell case)."""
    eps = np.array([[[-5.0, 0.0, 0.0, 0.0, 3.0]]])
    assert band_edges(eps, [3.0]).is_metal
    assert band_edges(eps, [4.0]).gap == 3.0  # filled: a real gap above it


def test_spin_channels_and_half_metals() -> None:
    up = [[-2.0, -1.0, 1.0]]
    down = [[-2.0, 0.5, 2.0]]
    eps = np.array([up, down])
    assert band_edges(eps, [2.0, 1.0]).gap == pytest.approx(1.5)  # VBM -1 (up), CBM 0.5 (down)
    assert band_edges(eps, [2.0, 1.4]).is_metal  # non-integer channel: half-metal


def test_spin_is_used_for_magnetic_elements_only() -> None:
    assert not spin_polarized(rocksalt())
    from ase.build import bulk

    from crystaldos.structures.readers import from_ase

    assert spin_polarized(from_ase(bulk("Fe", "bcc", a=2.87), id="fe"))
    assert not spin_polarized(from_ase(bulk("Fe", "bcc", a=2.87), id="fe"), "off")
    with pytest.raises(ValueError, match="spin must be"):
        spin_polarized(rocksalt(), "maybe")
    from crystaldos.reference.dft_edos import MAGNETIC_ELEMENTS, DFTSettings

    settings = DFTSettings(magnetic_elements=("Na",), initial_moment=1.0)
    assert spin_polarized(rocksalt(), settings.spin, settings.magnetic_elements)
    assert set(DFTSettings().magnetic_elements) == MAGNETIC_ELEMENTS  # the campaign's default
    assert DFTSettings(**settings.to_dict()) == settings  # records can rebuild their settings


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kind", "a", "metal"), [("Si", "diamond", 5.431, False),
                                                          ("Al", "fcc", 4.05, True)])
def test_gpaw_silicon_is_gapped_and_aluminium_a_metal(name: str, kind: str, a: float,
                                                      metal: bool) -> None:
    pytest.importorskip("gpaw")
    from ase.build import bulk

    from crystaldos.reference.dft_edos import gpaw_edos
    from crystaldos.structures.readers import from_ase

    crystal = from_ase(bulk(name, kind, a=a), id=name)
    res = gpaw_edos(crystal, DFTSettings(basis="sz(dzp)", kpoint_density=1.5))
    assert res.is_metal is metal
    assert res.k_weights.sum() == pytest.approx(1.0)
    assert res.n_valence == (8.0 if name == "Si" else 3.0)
    assert res.dos.shape == (300,) and res.dos.min() >= 0
    if not metal:
        assert 0.3 < res.gap < 2.0 and res.vbm < 0 < res.cbm
        assert res.dos[np.abs(res.grid.points) < 0.05].max() < 1e-3  # E_F mid-gap: empty
    else:
        assert res.gap == 0 and res.dos[np.argmin(np.abs(res.grid.points))] > 0.05


def test_idealized_restores_the_symmetry_a_relaxed_cell_lost() -> None:
    """A rocksalt primitive cell perturbed by 1e-5 Å: spglib at 1e-3 finds all 48 operations."""
    import spglib
    from ase.build import bulk

    from crystaldos.reference.dft_edos import idealized
    from crystaldos.structures.readers import from_ase

    atoms = bulk("TiN", "rocksalt", a=4.25)
    atoms.positions[1] += [1e-5, -2e-5, 0.0]
    crystal = from_ase(atoms, id="tin")

    def operations(c) -> int:
        a = c.to_ase()
        cell = (a.cell[:], a.get_scaled_positions(), a.numbers)
        return len(spglib.get_symmetry(cell, symprec=1e-8)["rotations"])

    assert operations(crystal) < 48
    ideal = idealized(crystal, 1e-3)
    assert operations(ideal) == 48
    assert sorted(ideal.species) == ["N", "Ti"]
    assert ideal.volume == pytest.approx(crystal.volume, rel=1e-4)
    assert idealized(crystal, None) is crystal


def test_idealized_shrinks_a_supercell_to_its_primitive_cell() -> None:
    from ase.build import bulk

    from crystaldos.reference.dft_edos import idealized
    from crystaldos.structures.readers import from_ase

    crystal = from_ase(bulk("Cu", "fcc", a=3.615, cubic=True), id="cu4")
    assert idealized(crystal, 1e-3).n_atoms == 1


def test_scf_convergence_passes_the_density_criterion_only_when_set() -> None:
    assert scf_convergence(DFTSettings(max_iterations=40)) == {"maximum iterations": 40}
    loose = scf_convergence(DFTSettings(density_convergence=1e-3))
    assert loose["density"] == 1e-3 and loose["maximum iterations"] == 150
    # records written before the option existed load unchanged
    old = DFTSettings(basis="szp(dzp)").to_dict()
    old.pop("density_convergence")
    assert DFTSettings(**old).density_convergence is None


@pytest.mark.slow
def test_a_non_self_consistent_pass_gives_the_eigenvalues_of_a_denser_mesh() -> None:
    pytest.importorskip("gpaw")
    from ase.build import bulk

    from crystaldos.reference.dft_edos import gpaw_edos
    from crystaldos.structures.readers import from_ase

    crystal = from_ase(bulk("Si", "diamond", a=5.431), id="Si")
    coarse = gpaw_edos(crystal, DFTSettings(basis="sz(dzp)", kpoint_density=1.0))
    dense = gpaw_edos(crystal, DFTSettings(basis="sz(dzp)", kpoint_density=1.0,
                                           nscf_kpoint_density=2.5))
    assert max(dense.kpts) > max(coarse.kpts)  # the record's mesh is the one it was read on
    assert dense.k_weights.size > coarse.k_weights.size
    assert dense.k_weights.sum() == pytest.approx(1.0)
    assert not dense.is_metal and abs(dense.gap - coarse.gap) < 0.3


def test_hubbard_u_goes_on_oxides_and_fluorides_only() -> None:
    from crystaldos.reference.dft_edos import hubbard_setups, mp_hubbard_u

    table = dict(mp_hubbard_u())
    assert table["Ni"] == pytest.approx(6.2) and table["Mn"] == pytest.approx(3.9)
    assert "Cu" not in table and "Ti" not in table  # the Materials Project leaves them plain
    plus_u = DFTSettings(hubbard_u=mp_hubbard_u())
    assert hubbard_setups(["Ni", "O"], plus_u) == {"Ni": ":d,6.2"}
    assert hubbard_setups(["Li", "Fe", "F", "F", "F"], plus_u) == {"Fe": ":d,5.3"}
    assert hubbard_setups(["Fe", "O", "Cl"], plus_u) == {"Fe": ":d,5.3"}  # O outranks Cl
    assert hubbard_setups(["Fe", "S"], plus_u) == {}  # a sulfide: plain PBE
    assert hubbard_setups(["Fe", "Al"], plus_u) == {}  # an intermetallic
    assert hubbard_setups(["Cu", "O"], plus_u) == {}  # no U for Cu in the table
    assert hubbard_setups(["Ni", "O"], DFTSettings()) == {}  # the plain-PBE default


def test_the_campaigns_u_table_keeps_the_3d_elements() -> None:
    from crystaldos.reference.dft_edos import hubbard_table, mp_hubbard_u

    assert dict(hubbard_table("mp-3d")) == {el: u for el, u in mp_hubbard_u()
                                            if el not in ("Mo", "W")}
    assert hubbard_table("mp") == mp_hubbard_u() and hubbard_table("none") == ()
    with pytest.raises(ValueError, match="no U table"):
        hubbard_table("mp-5d")


def test_settings_round_trip_through_json_records() -> None:
    import json

    from crystaldos.reference.dft_edos import mp_hubbard_u

    settings = DFTSettings(hubbard_u=mp_hubbard_u(), magnetic_elements=("Fe",))
    stored = json.loads(json.dumps(settings.to_dict()))
    assert stored == settings.to_dict()  # what a record stores is what to_dict gives
    assert DFTSettings(**stored) == settings
    old = {k: v for k, v in DFTSettings().to_dict().items()
           if k not in ("hubbard_u", "hubbard_anions")}  # a record from before the U table
    assert DFTSettings(**old).hubbard_u == ()


def test_an_element_with_a_u_is_spin_polarized_and_starts_magnetic() -> None:
    from crystaldos.reference.dft_edos import cell_treatment, mp_hubbard_u

    plus_u = DFTSettings(hubbard_u=mp_hubbard_u())
    vanadium = cell_treatment(["V", "O", "O"], plus_u)
    assert vanadium["spin"] and vanadium["magnetic"] == ["V"] and vanadium["setups"]
    assert not cell_treatment(["V", "O", "O"], DFTSettings())["spin"]  # plain PBE: V is not
    assert cell_treatment(["V", "S", "S"], plus_u) == cell_treatment(["V", "S", "S"],
                                                                     DFTSettings())
    nickel = cell_treatment(["Ni", "O"], DFTSettings())
    assert nickel["spin"] and nickel["magnetic"] == ["Ni"] and nickel["setups"] == {}
