"""Turn a DOSDataset into PyG graphs with their target spectra attached."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch

from crystaldos.datasets.base import DOSRecord
from crystaldos.errors import StructureError
from crystaldos.graphs.cache import GraphCache
from crystaldos.graphs.crystal_graph import CrystalGraph, GraphSettings
from crystaldos.graphs.featurizer import graph_or_reason


def graphs_with_targets(records: Iterable[DOSRecord], settings: GraphSettings, *,
                        cache_dir: str | Path | None = None,
                        targets: dict[str, np.ndarray] | None = None,
                        head_targets: dict[str, np.ndarray] | None = None,
                        on_failure: Callable[[str, str], None] | None = None,
                        ) -> list[CrystalGraph]:
    """Graphs of records that have a structure, each with ``y`` (1, count) float32 and ``id``.

    ``targets`` replaces the records' own spectra (for example re-normalized ones);
    ``head_targets`` adds ``y_heads`` (1, k), the targets of a model's scalar heads. A record
    whose structure cannot be turned into a graph is reported to ``on_failure(id, reason)`` and
    skipped; without ``on_failure`` the StructureError propagates.
    """
    cache = GraphCache(cache_dir, settings) if cache_dir is not None else None
    graphs = []
    for rec in records:
        if rec.crystal is None:
            continue
        graph = graph_or_reason(rec.crystal, settings, cache)
        if isinstance(graph, str):
            if on_failure is None:
                raise StructureError(rec.crystal.source, graph)
            on_failure(rec.id, graph)
            continue
        values = targets[rec.id] if targets is not None else rec.dos
        if values is not None:
            graph.y = torch.as_tensor(np.asarray(values, dtype=np.float32))[None]
        if head_targets is not None:
            graph.y_heads = torch.as_tensor(np.asarray(head_targets[rec.id], np.float32))[None]
        graph.id = rec.id
        graphs.append(graph)
    return graphs
