"""Crystal graph + line graph of a Crystal as PyTorch Geometric data."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from crystaldos.graphs.atom_features import (
    ATOM_FEATURE_SETS,
    atom_features,
    feature_table_digest,
)
from crystaldos.graphs.line_graph import bond_cosines, bond_pairs, nearest_shell_bonds
from crystaldos.graphs.neighbors import (
    SHELL_TOLERANCE_A,
    Neighbors,
    check_isolated,
    knn_neighbors,
    radius_neighbors,
)
from crystaldos.structures.crystal import Crystal

#: bump when the stored graph layout changes, so old caches are never reused.
GRAPH_FORMAT_VERSION = 1


@dataclass(frozen=True)
class GraphSettings:
    """Everything that decides a featurized graph; its :meth:`key` names cache entries.

    Attributes:
        mode: ``"knn"`` (every neighbour out to the k-th nearest distance, shells kept whole) or
            ``"radius"`` (every neighbour within ``cutoff``).
        neighbors: k for the knn mode (12, 16 and 20 in the reference works).
        cutoff: Å; the radius of the radius mode and the cap of the knn mode.
        atom_features: one of ``cgcnn`` (92), ``attr5``, ``attr8``, ``atomic_number``.
        line_graph: build the bond-pair line graph with angle cosines.
        symmetric: knn only; keep a bond in both directions if either atom keeps it.
        three_body_neighbors: if set, the line graph pairs only bonds to each atom's this many
            nearest neighbours (whole shells kept); None pairs every bond, as ALIGNN does.
        uip_features: append a universal potential's frozen atom embeddings to the element
            features (``"chgnet"``, 64 more; see :mod:`crystaldos.graphs.uip`), or None.
    """

    mode: str = "knn"
    neighbors: int = 12
    cutoff: float = 8.0
    atom_features: str = "cgcnn"
    line_graph: bool = True
    symmetric: bool = True
    shell_tolerance: float = SHELL_TOLERANCE_A
    three_body_neighbors: int | None = None
    uip_features: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("knn", "radius"):
            raise ValueError(f"graph mode must be 'knn' or 'radius', got {self.mode!r}")
        if self.atom_features not in ATOM_FEATURE_SETS:
            raise ValueError(f"unknown atom features {self.atom_features!r}; choose from "
                             f"{ATOM_FEATURE_SETS}")
        if self.cutoff <= 0 or self.neighbors < 1:
            raise ValueError("cutoff must be positive and neighbors at least 1")
        if self.three_body_neighbors is not None and self.three_body_neighbors < 1:
            raise ValueError("three_body_neighbors must be at least 1 (or None for all bonds)")
        from crystaldos.graphs.uip import UIP_WIDTHS

        if self.uip_features is not None and self.uip_features not in UIP_WIDTHS:
            raise ValueError(f"unknown uip_features {self.uip_features!r}; choose from "
                             f"{sorted(UIP_WIDTHS)} or none")

    @property
    def feature_width(self) -> int:
        """F, the width of the node features ``x``: the element table plus any potential's."""
        from crystaldos.graphs.atom_features import atom_feature_table
        from crystaldos.graphs.uip import UIP_WIDTHS

        return int(atom_feature_table(self.atom_features).shape[1]) + \
            UIP_WIDTHS.get(self.uip_features or "", 0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GraphSettings:
        return cls(**data)

    def to_key_dict(self) -> dict[str, Any]:
        """The settings that name a graph cache (without ``uip_features`` when unset, so caches
        made before it existed stay valid)."""
        data = self.to_dict()
        if data.get("uip_features") is None:
            data.pop("uip_features", None)
        return data

    def key(self) -> str:
        """Hash of every setting, the feature table's content and the graph format version."""
        payload = {**self.to_key_dict(), "format": GRAPH_FORMAT_VERSION,
                   "features_digest": feature_table_digest(self.atom_features)}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


class CrystalGraph(Data):
    """PyG data of one crystal.

    Node tensors: ``x`` (N, F) float32 atom features, ``z`` (N,) int64 atomic numbers,
    ``pos`` (N, 3) float32 Cartesian Å. Edge tensors: ``edge_index`` (2, E) int64 with row 0 the
    neighbour j (message source) and row 1 the center i, ``edge_vec`` (E, 3) float32 Å from i to
    the image of j, ``edge_shift`` (E, 3) float32 image of j in lattice vectors. Line graph:
    ``lg_edge_index`` (2, T) int64 bond indices (bond a -> bond b, sharing center atom),
    ``lg_cos`` (T,) float32 cosine of the angle between the two bonds. ``lattice`` (1, 3, 3).
    Batching offsets ``lg_edge_index`` by the number of bonds, so batches stay consistent.
    """

    def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key == "lg_edge_index":
            return self.edge_index.size(1)
        return super().__inc__(key, value, *args, **kwargs)

    def __cat_dim__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key == "lg_edge_index":
            return 1
        return super().__cat_dim__(key, value, *args, **kwargs)

    @property
    def num_bonds(self) -> int:
        return int(self.edge_index.size(1))

    @property
    def num_triplets(self) -> int:
        return int(self.lg_edge_index.size(1)) if "lg_edge_index" in self else 0


def neighbors_for(crystal: Crystal, settings: GraphSettings) -> Neighbors:
    """The bonds of a crystal under ``settings`` (raises StructureError for an isolated atom)."""
    if settings.mode == "knn":
        return knn_neighbors(crystal, settings.neighbors, settings.cutoff,
                             symmetric=settings.symmetric,
                             shell_tolerance=settings.shell_tolerance)
    pairs = radius_neighbors(crystal, settings.cutoff)
    check_isolated(crystal, pairs.centers, settings.cutoff)
    return pairs


def graph_arrays(crystal: Crystal, settings: GraphSettings) -> dict[str, np.ndarray]:
    """The graph of a crystal as plain numpy arrays (what the cache stores)."""
    nb = neighbors_for(crystal, settings)
    x = atom_features(crystal.numbers, settings.atom_features)
    if settings.uip_features is not None:
        from crystaldos.graphs.uip import uip_atom_features

        x = np.concatenate([x, uip_atom_features(crystal, settings.uip_features)], axis=1)
    arrays = {
        "x": x.astype(np.float32),
        "z": crystal.numbers.astype(np.int64),
        "pos": crystal.positions.astype(np.float32),
        "lattice": crystal.lattice.astype(np.float32)[None],
        "edge_index": np.stack([nb.neighbors, nb.centers]).astype(np.int64),
        "edge_vec": nb.vectors.astype(np.float32),
        "edge_shift": nb.shifts.astype(np.float32),
    }
    if settings.line_graph:
        subset = None
        if settings.three_body_neighbors is not None:
            subset = nearest_shell_bonds(nb.centers, nb.distances, settings.three_body_neighbors,
                                         settings.shell_tolerance)
        src, dst = bond_pairs(nb.centers, crystal.n_atoms, subset)
        arrays["lg_edge_index"] = np.stack([src, dst])
        arrays["lg_cos"] = bond_cosines(nb.vectors, src, dst).astype(np.float32)
    return arrays


def graph_from_arrays(arrays: dict[str, Any], **attrs: Any) -> CrystalGraph:
    """Wrap stored arrays (numpy or torch) as a CrystalGraph; extra ``attrs`` (id...) are kept."""
    tensors = {k: torch.as_tensor(v) for k, v in arrays.items()}
    return CrystalGraph(num_nodes=int(tensors["z"].shape[0]), **tensors, **attrs)


def build_graph(crystal: Crystal, settings: GraphSettings | None = None) -> CrystalGraph:
    """Crystal graph (and line graph) of one crystal, with ``id`` attached."""
    settings = settings or GraphSettings()
    return graph_from_arrays(graph_arrays(crystal, settings), id=crystal.id)
