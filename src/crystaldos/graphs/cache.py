"""On-disk cache of featurized graphs, keyed by every graph setting and by the structure itself.

Layout: ``ROOT/graphs-<settings key>/settings.json`` plus one ``<fingerprint>.pt`` per structure,
where the fingerprint hashes lattice, species and positions. A changed setting gives a new
directory, a changed structure a new file, so a stale entry is never read. Files are written to a
temporary name and renamed, so an interrupted run leaves no half-written entry. They hold plain
tensors and load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path

import torch

from crystaldos.graphs.crystal_graph import (
    CrystalGraph,
    GraphSettings,
    graph_arrays,
    graph_from_arrays,
)
from crystaldos.structures.crystal import Crystal


class GraphCache:
    """Build-or-load graphs for one set of :class:`GraphSettings` under ``root``."""

    def __init__(self, root: str | Path, settings: GraphSettings) -> None:
        self.settings = settings
        self.directory = Path(root) / f"graphs-{settings.key()}"
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = self.directory / "settings.json"
        if not meta.exists():
            _atomic_write_text(meta, json.dumps(settings.to_dict(), indent=1, sort_keys=True))

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
                return graph_from_arrays(arrays, id=crystal.id), True
            except (OSError, RuntimeError, EOFError, ValueError, KeyError, pickle.UnpicklingError):
                path.unlink(missing_ok=True)  # unreadable entry: rebuild it below
        arrays = {k: torch.from_numpy(v) for k, v in graph_arrays(crystal, self.settings).items()}
        _atomic_save(arrays, path)
        return graph_from_arrays(arrays, id=crystal.id), False


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _atomic_save(obj: dict[str, torch.Tensor], path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pt")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
