import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from crystaldos.graphs import GraphSettings, bond_pairs, build_graph, knn_neighbors
from tests.conftest import rocksalt, silicon_primitive, tiny_cell, triclinic


@pytest.mark.parametrize("make", [silicon_primitive, triclinic, tiny_cell])
def test_bond_pairs_match_brute_force(make):
    crystal = make()
    nb = knn_neighbors(crystal, 12)
    src, dst = bond_pairs(nb.centers, crystal.n_atoms)
    expected = {(a, b) for a in range(len(nb)) for b in range(len(nb))
                if a != b and nb.centers[a] == nb.centers[b]}
    assert set(zip(src.tolist(), dst.tolist(), strict=True)) == expected
    assert len(src) == len(expected)  # no duplicates


def test_bond_angle_cosines_in_diamond():
    graph = build_graph(silicon_primitive(), GraphSettings(neighbors=4, cutoff=2.5))
    # 4 nearest neighbours per Si; pairs of them meet at the tetrahedral angle, cos = -1/3
    assert graph.num_bonds == 8
    np.testing.assert_allclose(graph.lg_cos.numpy(), -1.0 / 3.0, atol=1e-6)
    assert graph.num_triplets == 2 * 4 * 3


def test_cosines_equal_vector_geometry():
    graph = build_graph(triclinic())
    a, b = graph.lg_edge_index
    va, vb = graph.edge_vec[a].double(), graph.edge_vec[b].double()
    cos = (va * vb).sum(1) / (va.norm(dim=1) * vb.norm(dim=1))
    torch.testing.assert_close(graph.lg_cos.double(), cos.clamp(-1, 1), atol=1e-6, rtol=0)
    # every pair shares its center atom
    centers = graph.edge_index[1]
    assert torch.equal(centers[a], centers[b])


def test_batching_offsets_line_graph_by_bond_count():
    g1, g2 = build_graph(rocksalt()), build_graph(triclinic())
    batch = Batch.from_data_list([g1, g2])
    assert batch.lg_edge_index.shape[1] == g1.num_triplets + g2.num_triplets
    second = batch.lg_edge_index[:, g1.num_triplets:]
    torch.testing.assert_close(second - g1.num_bonds, g2.lg_edge_index)
    assert int(batch.lg_edge_index.max()) < batch.edge_index.shape[1]
    assert batch.id == ["NaCl", "tric"]


def test_nearest_shell_bonds_keeps_whole_shells() -> None:
    from crystaldos.graphs.line_graph import nearest_shell_bonds

    centers = np.array([0, 0, 0, 0, 1, 1])
    distances = np.array([1.0, 1.0, 2.0, 3.0, 5.0, 4.0])
    # k=1: center 0 keeps both 1.0 bonds (one shell), center 1 its 4.0 bond
    np.testing.assert_array_equal(nearest_shell_bonds(centers, distances, 1),
                                  [True, True, False, False, False, True])
    np.testing.assert_array_equal(nearest_shell_bonds(centers, distances, 3),
                                  [True, True, True, False, True, True])


def test_bond_pairs_on_a_subset_keep_full_indices() -> None:
    from crystaldos.graphs.line_graph import bond_pairs

    centers = np.array([0, 0, 0, 1, 1])
    subset = np.array([True, False, True, True, True])
    src, dst = bond_pairs(centers, 2, subset)
    assert sorted(zip(src.tolist(), dst.tolist(), strict=True)) == [(0, 2), (2, 0), (3, 4),
                                                                     (4, 3)]


def test_three_body_limit_shrinks_the_line_graph_only() -> None:
    from crystaldos.graphs.crystal_graph import GraphSettings, build_graph
    from tests.conftest import rocksalt

    full = build_graph(rocksalt(), GraphSettings(neighbors=12))
    cut = build_graph(rocksalt(), GraphSettings(neighbors=12, three_body_neighbors=6))
    assert full.num_bonds == cut.num_bonds
    # rocksalt: 6 first neighbours of 18 within the 12-nearest shells -> 6*5 pairs per atom
    assert cut.num_triplets == 8 * 6 * 5 < full.num_triplets
