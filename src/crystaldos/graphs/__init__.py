"""Graphs: periodic neighbours, crystal graph, line graph, atom features, bases, cache."""

from crystaldos.graphs.atom_features import ATOM_FEATURE_SETS, atom_feature_table, atom_features
from crystaldos.graphs.basis import RBFExpansion, angle_basis, distance_basis
from crystaldos.graphs.cache import GraphCache
from crystaldos.graphs.crystal_graph import (
    CrystalGraph,
    GraphSettings,
    build_graph,
    graph_arrays,
    graph_from_arrays,
)
from crystaldos.graphs.line_graph import bond_cosines, bond_pairs
from crystaldos.graphs.neighbors import Neighbors, knn_neighbors, radius_neighbors

__all__ = [
    "ATOM_FEATURE_SETS", "CrystalGraph", "GraphCache", "GraphSettings", "Neighbors",
    "RBFExpansion", "angle_basis", "atom_feature_table", "atom_features", "bond_cosines",
    "bond_pairs", "build_graph", "distance_basis", "graph_arrays", "graph_from_arrays",
    "knn_neighbors", "radius_neighbors",
]
