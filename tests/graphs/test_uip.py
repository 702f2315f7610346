import numpy as np
import pytest

from crystaldos.graphs.atom_features import atom_features
from crystaldos.graphs.crystal_graph import GraphSettings, build_graph
from tests.conftest import rocksalt


def test_chgnet_features_are_appended_to_the_element_table() -> None:
    pytest.importorskip("chgnet")
    settings = GraphSettings(uip_features="chgnet")
    crystal = rocksalt()
    graph = build_graph(crystal, settings)
    assert graph.x.shape == (crystal.n_atoms, settings.feature_width) == (8, 92 + 64)
    np.testing.assert_allclose(graph.x[:, :92].numpy(), atom_features(crystal.numbers, "cgcnn"))
    embeddings = graph.x[:, 92:].numpy()
    na = crystal.numbers == 11
    # symmetry-equivalent atoms get the same embedding, Na and Cl different ones
    np.testing.assert_allclose(embeddings[na], embeddings[na][:1].repeat(na.sum(), 0),
                               atol=1e-4)
    assert not np.allclose(embeddings[na][0], embeddings[~na][0])
    assert settings.key() != GraphSettings().key()


def test_unknown_potential_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown uip_features"):
        GraphSettings(uip_features="mace")


def test_crystal_summary_pools_atom_features_and_reads_forces_and_stress() -> None:
    pytest.importorskip("chgnet")
    from crystaldos.graphs.uip import summary_globals, uip_atom_features, uip_crystal_summary

    crystal = rocksalt()
    summary = uip_crystal_summary(crystal, "chgnet")
    assert summary.shape == (4 * 64 + len(summary_globals("chgnet")),)
    assert np.all(np.isfinite(summary))
    feas = uip_atom_features(crystal, "chgnet")
    np.testing.assert_allclose(summary[:64], feas.mean(0), atol=1e-5)
    named = dict(zip(summary_globals("chgnet"), summary[256:], strict=True))
    assert named["n_atoms"] == 8
    assert named["max_force_eV_per_A"] < 0.05  # rock salt: forces vanish by symmetry
    assert named["volume_A3_per_atom"] == pytest.approx(crystal.volume / 8)
    # an atom moved off its site feels a restoring force
    from crystaldos.structures.crystal import Crystal

    positions = crystal.positions.copy()
    positions[0, 0] += 0.15
    moved = Crystal(crystal.lattice, crystal.numbers, positions)
    moved_globals = dict(zip(summary_globals("chgnet"), uip_crystal_summary(moved, "chgnet")[256:],
                             strict=True))
    assert moved_globals["max_force_eV_per_A"] > 0.1


def test_sevennet_features_and_summary() -> None:
    pytest.importorskip("sevenn")
    from crystaldos.graphs.uip import summary_globals, uip_crystal_summary

    crystal = rocksalt()
    graph = build_graph(crystal, GraphSettings(uip_features="sevennet"))
    assert graph.x.shape == (8, 92 + 128)
    embeddings = graph.x[:, 92:].numpy()
    na = crystal.numbers == 11
    np.testing.assert_allclose(embeddings[na], embeddings[na][:1].repeat(na.sum(), 0),
                               atol=1e-4)
    summary = uip_crystal_summary(crystal, "sevennet")
    assert summary.shape == (4 * 128 + len(summary_globals("sevennet")),)
    named = dict(zip(summary_globals("sevennet"), summary[512:], strict=True))
    assert "mean_abs_magmom_muB" not in named  # SevenNet predicts no moments
    assert named["max_force_eV_per_A"] < 0.05
    assert -5.0 < named["energy_eV_per_atom"] < -2.0  # NaCl, PBE: about -3.4 eV/atom


def test_a_missing_potential_package_is_named_with_its_install_command(monkeypatch) -> None:
    import sys

    from crystaldos.errors import CrystalDosError
    from crystaldos.graphs import uip

    uip._chgnet.cache_clear()
    monkeypatch.setitem(sys.modules, "chgnet.model", None)  # as if chgnet were not installed
    try:
        with pytest.raises(CrystalDosError, match=r"pip install 'crystaldos\[reference\]'"):
            uip._chgnet()
    finally:
        uip._chgnet.cache_clear()


def test_a_structure_the_potential_refuses_is_a_structure_error() -> None:
    pytest.importorskip("chgnet")
    from crystaldos.errors import StructureError
    from crystaldos.graphs.uip import uip_crystal_summary
    from crystaldos.structures.readers import from_arrays

    lonely = from_arrays(7.0 * np.eye(3), ["Na"], frac_coords=[[0, 0, 0]], id="lonely",
                         source="lonely.cif")  # no neighbour within CHGNet's 6 Å
    with pytest.raises(StructureError, match=r"^lonely\.cif: chgnet cannot compute it"):
        uip_crystal_summary(lonely, "chgnet")


@pytest.mark.parametrize("potential", ["chgnet", "sevennet"])
def test_an_element_the_potential_never_saw_is_named(potential: str) -> None:
    pytest.importorskip("chgnet" if potential == "chgnet" else "sevenn")
    from crystaldos.errors import StructureError
    from crystaldos.graphs.uip import uip_crystal_summary
    from crystaldos.structures.readers import from_arrays

    einsteinium = from_arrays(4.0 * np.eye(3), ["Es"], frac_coords=[[0, 0, 0]], id="es",
                              source="es.cif")
    with pytest.raises(StructureError, match=rf"^es\.cif: {potential} was not trained on Es"):
        uip_crystal_summary(einsteinium, potential)
