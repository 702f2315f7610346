import numpy as np
import pytest
import torch

from crystaldos.graphs import (
    GraphCache,
    GraphSettings,
    RBFExpansion,
    atom_feature_table,
    build_graph,
)
from tests.conftest import rocksalt, silicon_primitive, triclinic


def test_graph_tensors_and_dtypes():
    crystal = triclinic()
    g = build_graph(crystal, GraphSettings(neighbors=12))
    assert g.x.shape == (3, 92) and g.x.dtype == torch.float32
    assert g.z.tolist() == [22, 8, 8]
    assert g.edge_index.dtype == torch.int64 and g.edge_index.shape[0] == 2
    src, dst = g.edge_index
    expected = (g.pos[src].double() + g.edge_shift.double() @ g.lattice[0].double()
                - g.pos[dst].double())
    torch.testing.assert_close(g.edge_vec.double(), expected, atol=1e-4, rtol=0)


def test_radius_mode_and_no_line_graph():
    g = build_graph(rocksalt(), GraphSettings(mode="radius", cutoff=3.0, line_graph=False))
    assert "lg_edge_index" not in g
    assert g.num_bonds == 8 * 6  # each atom: 6 nearest at a/2 = 2.82 Å
    assert g.edge_vec.norm(dim=1).max() <= 3.0


@pytest.mark.parametrize(("name", "width"), [("cgcnn", 92), ("attr5", 5), ("attr8", 8),
                                             ("atomic_number", 1)])
def test_atom_feature_sets(name, width):
    table = atom_feature_table(name)
    assert table.shape == (104, width)
    assert np.all(np.isfinite(table))
    if name == "cgcnn":
        # one-hot segments: every real element has at least group, period and block set
        assert set(np.unique(table)) <= {0.0, 1.0}
        assert (table[1:, 1:19].sum(1) == 1).all() and (table[1:, 78:82].sum(1) == 1).all()
        assert not np.array_equal(table[11], table[17])  # Na differs from Cl
    elif name != "atomic_number":
        np.testing.assert_allclose(table[1:].mean(0), 0.0, atol=0.15)


def test_settings_key_changes_with_every_setting():
    base = GraphSettings()
    variants = [GraphSettings(neighbors=16), GraphSettings(cutoff=6.0),
                GraphSettings(mode="radius"),
                GraphSettings(atom_features="attr8"), GraphSettings(line_graph=False),
                GraphSettings(symmetric=False)]
    keys = {v.key() for v in variants}
    assert base.key() not in keys and len(keys) == len(variants)
    assert GraphSettings().key() == base.key()


def test_cache_round_trip_and_no_stale_reuse(tmp_path):
    crystal = rocksalt()
    cache = GraphCache(tmp_path, GraphSettings())
    built, hit = cache.get(crystal)
    assert not hit
    loaded, hit = cache.get(crystal)
    assert hit
    for key in ("x", "edge_index", "edge_vec", "lg_edge_index", "lg_cos"):
        torch.testing.assert_close(built[key], loaded[key])
    # a different setting uses another directory; a moved atom another file
    other = GraphCache(tmp_path, GraphSettings(neighbors=16))
    assert other.directory != cache.directory and crystal not in other
    strained = type(crystal)(crystal.lattice * 1.01, crystal.numbers, crystal.positions * 1.01,
                             id=crystal.id)
    assert strained not in cache


def test_corrupt_cache_entry_is_rebuilt(tmp_path):
    crystal = rocksalt()
    cache = GraphCache(tmp_path, GraphSettings())
    cache.path_for(crystal).write_bytes(b"not a torch file")
    graph, hit = cache.get(crystal)
    assert not hit and graph.num_bonds > 0


@pytest.mark.parametrize("content", ["list", "dict", "other_graph"])
def test_wrong_cache_entry_is_rebuilt_not_served(tmp_path, content):
    crystal = rocksalt()  # 8 atoms
    cache = GraphCache(tmp_path, GraphSettings())
    other = silicon_primitive()  # 2 atoms
    cache.get(other)
    entry = cache.path_for(crystal)
    if content == "other_graph":  # another structure's graph copied into this entry
        entry.write_bytes(cache.path_for(other).read_bytes())
    else:
        torch.save([1, 2] if content == "list" else {"z": [1]}, entry)
    graph, hit = cache.get(crystal)
    assert not hit and graph.num_nodes == crystal.n_atoms
    again, hit = cache.get(crystal)  # the rebuilt entry is now served
    assert hit and again.num_nodes == crystal.n_atoms


def test_rbf_expansion():
    rbf = RBFExpansion(0.0, 8.0, 80)
    out = rbf(torch.tensor([0.0, 4.0, 8.0]))
    assert out.shape == (3, 80)
    assert out[0, 0] == 1.0 and out[2, -1] == 1.0
    assert int(out[1].argmax()) == 40 - 1 or int(out[1].argmax()) == 39
