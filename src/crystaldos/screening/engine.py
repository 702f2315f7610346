"""Stream structures through featurization and batched inference into a resumable run directory.

Memory stays bounded: structures are read lazily, featurized a chunk at a time with a bounded
number of chunks in flight, predicted in batches, and committed to Parquet every ``shard_size``
rows (see :mod:`crystaldos.screening.store`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.models.saving import ModelBundle
from crystaldos.physics.cell import CellInfo
from crystaldos.physics.properties import columns_for, properties_for
from crystaldos.prediction.engine import predict_graphs
from crystaldos.screening.backends import Featurizer
from crystaldos.screening.store import ScreenStore
from crystaldos.structures.crystal import Crystal
from crystaldos.structures.sources import StructureFailure, iter_inputs, source_file

#: columns every row has besides the DOS and the properties
BASE_COLUMNS = {"key": "str", "id": "str", "formula": "str", "n_atoms": "int",
                "volume_A3": "float", "file": "str"}


@dataclass
class ScreenSummary:
    """What one call did: rows and failures written now, structures skipped as already done."""

    written: int
    failed: int
    skipped: int
    seconds: float

    @property
    def rate(self) -> float:
        """Structures per second over this call (written + failed)."""
        return (self.written + self.failed) / self.seconds if self.seconds > 0 else 0.0


def model_digest(bundle: ModelBundle) -> str:
    """First 16 hex digits of the SHA-256 of the model's weights (the tensors, in state-dict
    order), so that a run directory is never resumed with other weights under the same name."""
    import hashlib

    digest = hashlib.sha256()
    for name, tensor in bundle.model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def screen(inputs: Sequence[str | Path] | Iterable[Crystal | StructureFailure],
           bundle: ModelBundle, output: str | Path, *, properties: bool = True,
           temperatures: Sequence[float] = (300.0,), batch_size: int = 64,
           workers: int = 1, backend: str = "local", shard_size: int = 4096,
           chunk_size: int = 32, client: Any = None,
           progress: Callable[[int, int], None] | None = None,
           property_options: dict[str, Any] | None = None) -> ScreenSummary:
    """Predict the DOS (and properties) of every input structure into ``output``.

    Finished structures (by key: their source) are skipped, so calling again with the same
    inputs resumes. Bad structures go to the failures table and the run continues.
    ``progress(done, failed)`` is called after every batch with counts of this call.
    """
    start = time.perf_counter()
    grid = bundle.grid
    kind = grid.kind
    prop_columns = {k: v for k, v in columns_for(kind, temperatures).items()
                    if k not in BASE_COLUMNS} if properties else {}
    columns = {**BASE_COLUMNS, **prop_columns}
    meta = {"format": "crystaldos-screen-1", "model": bundle.name,
            "model_weights_sha256": model_digest(bundle),
            "model_card_target": bundle.card.get("target"), "grid": grid.to_dict(),
            "normalization": bundle.normalization, "properties": properties,
            "temperatures": [float(t) for t in temperatures], "columns": columns}
    store = ScreenStore(output, meta, columns)
    done = store.finished_keys()
    options = dict(property_options or {})
    written = failed = skipped = 0

    stream: Iterable[Crystal | StructureFailure]
    if isinstance(inputs, list | tuple) and all(isinstance(x, str | Path) for x in inputs):
        stream = iter_inputs(inputs)
    else:
        stream = inputs  # type: ignore[assignment]

    def todo() -> Iterator[Crystal]:
        nonlocal failed, skipped
        for item in stream:
            key = item.source
            if key in done:
                skipped += 1
                continue
            done.add(key)  # an input listed twice is screened once
            if isinstance(item, StructureFailure):
                store.add_failure(key, "", source_file(key), item.reason)
                failed += 1
                continue
            yield item

    def chunks() -> Iterator[list[Crystal]]:
        items = todo()
        while chunk := list(itertools.islice(items, chunk_size)):
            yield chunk

    model = bundle.model
    normalization = bundle.normalization
    batch: list[tuple[Crystal, Any]] = []

    def run_batch() -> None:
        nonlocal written
        values = predict_graphs(model, [g for _, g in batch], batch_size=len(batch))
        for (crystal, _), dos in zip(batch, values, strict=True):
            row = {"key": crystal.source, "id": crystal.id, "formula": crystal.formula,
                   "n_atoms": crystal.n_atoms, "volume_A3": crystal.volume,
                   "file": source_file(crystal.source), "dos": np.asarray(dos, np.float32)}
            if properties:
                try:
                    derived = properties_for(kind, grid, dos, normalization,
                                             CellInfo.from_crystal(crystal), temperatures,
                                             **options)
                except CrystalDosError:
                    derived = {}
                row.update({k: derived.get(k) for k in prop_columns})
            store.add_row(row)
            written += 1
        batch.clear()

    try:
        with Featurizer(bundle.graph_settings, backend, workers, client) as featurizer:
            for crystals, graphs in featurizer.map(chunks()):
                for crystal, graph in zip(crystals, graphs, strict=True):
                    if isinstance(graph, str):
                        store.add_failure(crystal.source, crystal.id, source_file(crystal.source),
                                          graph)
                        failed += 1
                        continue
                    batch.append((crystal, graph))
                    if len(batch) == batch_size:
                        run_batch()
                        if progress:
                            progress(written, failed)
                if store.pending >= shard_size:
                    store.flush()
            if batch:
                run_batch()
    finally:
        store.close()  # whatever finished is kept, also on Ctrl-C or an error
    if progress:
        progress(written, failed)
    return ScreenSummary(written, failed, skipped, time.perf_counter() - start)
