"""On-disk cache of featurized graphs, keyed by every graph setting and by the structure itself.

Layout: ``ROOT/graphs-<settings key>/settings.json`` plus one ``<fingerprint>.pt`` per structure,
where the fingerprint hashes lattice, species and positions. A changed setting gives a new
directory, a changed structure a new file, so a stale entry is never read; an entry that is not a
well-formed graph of the very crystal asked for (damaged, or another structure's file copied in)
is rebuilt rather than served. Files are written to a
temporary name and renamed, so an interrupted run leaves no half-written entry. They hold plain
tensors and load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import torch

from crystaldos.graphs.crystal_graph import (
    CrystalGraph,
    GraphSettings,
    graph_arrays,
    graph_from_arrays,
)
from crystaldos.safe_io import atomic_target, atomic_write_text
from crystaldos.structures.crystal import Crystal


class GraphCache:
    """Build-or-load graphs for one set of :class:`GraphSettings` under ``root``."""

    def __init__(self, root: str | Path, settings: GraphSettings) -> None:
        self.settings = settings
        self.directory = Path(root) / f"graphs-{settings.key()}"
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = self.directory / "settings.json"
        if not meta.exists():
            atomic_write_text(meta, json.dumps(settings.to_dict(), indent=1, sort_keys=True))

    def path_for(self, crystal: Crystal) -> Path:
        return self.directory / f"{crystal.fingerprint()}.pt"

    def __contains__(self, crystal: Crystal) -> bool:
        return self.path_for(crystal).exists()

    def get(self, crystal: Crystal) -> tuple[CrystalGraph, bool]:
        """The graph of ``crystal`` and whether it came from the cache (True) or was built."""
        path = self.path_for(crystal)
        if path.exists():
            try:
                arrays = torch.load(path, weights_only=True)
            except (OSError, RuntimeError, EOFError, ValueError, KeyError, pickle.UnpicklingError):
                arrays = None
            if _entry_matches(arrays, crystal, self.settings):
                return graph_from_arrays(arrays, id=crystal.id), True
            path.unlink(missing_ok=True)  # unreadable or not this crystal's graph: rebuild
        arrays = {k: torch.from_numpy(v) for k, v in graph_arrays(crystal, self.settings).items()}
        _atomic_save(arrays, path)
        return graph_from_arrays(arrays, id=crystal.id), False


#: tensors every cached graph holds, with their number of dimensions.
_ENTRY_DIMS = {"x": 2, "z": 1, "pos": 2, "lattice": 3, "edge_index": 2, "edge_vec": 2,
               "edge_shift": 2}


def _entry_matches(arrays: object, crystal: Crystal, settings: GraphSettings) -> bool:
    """True when a loaded cache entry is a well-formed graph of exactly this crystal: a dict of
    tensors with the expected names and shapes whose atomic numbers, positions and lattice are
    the crystal's (so a damaged or swapped entry is rebuilt, never served)."""
    if not isinstance(arrays, dict) or not all(isinstance(v, torch.Tensor)
                                               for v in arrays.values()):
        return False
    needed = dict(_ENTRY_DIMS)
    if settings.line_graph:
        needed.update(lg_edge_index=2, lg_cos=1)
    if any(name not in arrays or arrays[name].dim() != dims for name, dims in needed.items()):
        return False
    n_atoms = crystal.n_atoms
    if arrays["z"].shape[0] != n_atoms or arrays["pos"].shape != (n_atoms, 3):
        return False
    if not torch.equal(arrays["z"], torch.from_numpy(crystal.numbers.astype("int64"))):
        return False
    edges = arrays["edge_index"]
    if edges.shape[0] != 2 or (edges.numel() and (edges.min() < 0 or edges.max() >= n_atoms)):
        return False
    stored = torch.cat([arrays["pos"].double().flatten(), arrays["lattice"].double().flatten()])
    actual = torch.from_numpy(np.concatenate([crystal.positions.ravel(), crystal.lattice.ravel()]))
    return bool(torch.allclose(stored, actual, atol=1e-4))


def _atomic_save(obj: dict[str, torch.Tensor], path: Path) -> None:
    with atomic_target(path) as tmp:
        torch.save(obj, tmp)
