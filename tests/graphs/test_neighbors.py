import numpy as np
import pytest

from crystaldos.errors import StructureError
from crystaldos.graphs import knn_neighbors, radius_neighbors
from crystaldos.structures import from_arrays
from tests.conftest import rocksalt, silicon_primitive, tiny_cell, triclinic
from tests.graphs.brute_force import all_pairs, knn_reference


def edge_set(nb):
    return {(int(i), int(j), tuple(int(x) for x in s))
            for i, j, s in zip(nb.centers, nb.neighbors, nb.shifts, strict=True)}


@pytest.mark.parametrize("make", [rocksalt, silicon_primitive, triclinic, tiny_cell])
@pytest.mark.parametrize("cutoff", [3.0, 5.5])
def test_radius_neighbors_match_brute_force(make, cutoff):
    crystal = make()
    nb = radius_neighbors(crystal, cutoff)
    ref = all_pairs(crystal, cutoff)
    assert edge_set(nb) == set(ref)
    for i, j, s, d, v in zip(nb.centers, nb.neighbors, nb.shifts, nb.distances, nb.vectors,
                             strict=True):
        key = (int(i), int(j), tuple(int(x) for x in s))
        assert d == pytest.approx(ref[key], abs=1e-9)
        expected = crystal.positions[j] + s @ crystal.lattice - crystal.positions[i]
        np.testing.assert_allclose(v, expected, atol=1e-9)


@pytest.mark.parametrize("make", [rocksalt, silicon_primitive, triclinic, tiny_cell])
@pytest.mark.parametrize("k", [12, 16, 20])
def test_knn_neighbors_match_brute_force(make, k):
    crystal = make()
    nb = knn_neighbors(crystal, k, cutoff=8.0)
    assert edge_set(nb) == knn_reference(crystal, k, cutoff=8.0)


def test_knn_keeps_whole_shells():
    # bcc: 8 first neighbours, 6 second; k=12 must keep all 14 (the 2nd shell is not cut)
    bcc = from_arrays(np.eye(3) * 3.0, ["Fe", "Fe"], frac_coords=[[0, 0, 0], [0.5, 0.5, 0.5]])
    nb = knn_neighbors(bcc, 12)
    counts = np.bincount(nb.centers)
    assert counts.tolist() == [14, 14]
    assert nb.distances.max() == pytest.approx(3.0)


def test_tiny_cell_neighbours_are_images_of_itself():
    crystal = tiny_cell()
    nb = knn_neighbors(crystal, 12)
    assert set(nb.neighbors.tolist()) == {0}
    assert len(nb) == 18  # 6 faces at 2.2 Å + 12 edges at 3.11 Å (shell of 12 not cut)


def test_knn_directed_graph_is_symmetric():
    nb = knn_neighbors(triclinic(), 12)
    edges = edge_set(nb)
    for i, j, s in edges:
        assert (j, i, tuple(-x for x in s)) in edges


def test_isolated_atom_is_reported():
    # two atoms 6 Å apart along z in a cell whose other images are 20 Å away; cutoff 4 Å
    crystal = from_arrays(np.diag([20.0, 20.0, 20.0]), ["C", "O"],
                          positions=[[0, 0, 0], [0, 0, 6.0]], id="gas")
    with pytest.raises(StructureError, match="atom 0 \\(C\\) has no neighbour within the graph "
                                             "cutoff 4 Å"):
        knn_neighbors(crystal, 12, cutoff=4.0)
