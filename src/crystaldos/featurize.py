"""Batch featurization: structures in, cached crystal + line graphs out, failures recorded."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from crystaldos.graphs.cache import GraphCache
from crystaldos.graphs.crystal_graph import GraphSettings
from crystaldos.graphs.featurizer import graph_or_reason
from crystaldos.safe_io import atomic_target, atomic_write_text
from crystaldos.structures.sources import StructureFailure, iter_inputs


@dataclass
class FeaturizeReport:
    """What a featurization run did; ``rate`` is structures per second over the whole run."""

    built: int = 0
    cached: int = 0
    failures: list[StructureFailure] = field(default_factory=list)
    seconds: float = 0.0
    index_path: Path | None = None

    @property
    def done(self) -> int:
        return self.built + self.cached

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else float("nan")


def featurize(inputs: Iterable[str | Path], output: str | Path, settings: GraphSettings, *,
              on_item: Callable[[str, StructureFailure | None], None] | None = None
              ) -> FeaturizeReport:
    """Build (or reuse) the graph of every structure in ``inputs`` under ``output``.

    Writes ``output/graphs-<key>/index.jsonl`` (one line per structure: id, source, file, atoms,
    bonds, triplets) and ``failures.jsonl`` (source, reason). Bad structures never stop the run.
    ``on_item(label, failure)`` is called after each structure (for progress bars / logging).
    """
    cache = GraphCache(output, settings)
    report = FeaturizeReport()
    index_path = cache.directory / "index.jsonl"
    start = time.perf_counter()
    with atomic_target(index_path) as tmp_index, open(tmp_index, "w") as index:
        for item in iter_inputs(inputs):
            if isinstance(item, StructureFailure):
                report.failures.append(item)
                if on_item:
                    on_item(item.source, item)
                continue
            hit = item in cache
            graph = graph_or_reason(item, settings, cache)
            if isinstance(graph, str):
                failure = StructureFailure(item.source, graph)
                report.failures.append(failure)
                if on_item:
                    on_item(item.source, failure)
                continue
            report.cached += hit
            report.built += not hit
            index.write(json.dumps({
                "id": item.id, "source": item.source, "file": cache.path_for(item).name,
                "atoms": item.n_atoms, "bonds": graph.num_bonds,
                "triplets": graph.num_triplets}) + "\n")
            if on_item:
                on_item(item.id, None)
    atomic_write_text(cache.directory / "failures.jsonl",
                      "".join(json.dumps({"source": f.source, "reason": f.reason}) + "\n"
                              for f in report.failures))
    report.seconds = time.perf_counter() - start
    report.index_path = index_path
    return report
