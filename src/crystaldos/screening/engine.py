"""Stream structures through the prediction pipeline into a resumable run directory.

Memory stays bounded: the pipeline reads lazily, featurizes a chunk at a time and predicts in
batches; rows are committed to Parquet every ``shard_size`` rows (see
:mod:`crystaldos.screening.store`). The rows are exactly those ``crystaldos predict`` writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crystaldos.models.saving import ModelBundle
from crystaldos.prediction.pipeline import PredictionPipeline
from crystaldos.prediction.schema import Failure
from crystaldos.screening.store import ScreenStore
from crystaldos.structures.crystal import Crystal
from crystaldos.structures.sources import StructureFailure


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


def screen(inputs: Sequence[str | Path] | Iterable[Crystal | StructureFailure],
           bundle: ModelBundle, output: str | Path, *, properties: bool = True,
           temperatures: Sequence[float] = (300.0,), batch_size: int = 64,
           workers: int = 1, backend: str = "local", shard_size: int = 4096,
           chunk_size: int = 32, client: Any = None, device: str = "cpu",
           progress: Callable[[int, int], None] | None = None,
           property_options: dict[str, Any] | None = None,
           on_failure: Callable[[Failure], None] | None = None) -> ScreenSummary:
    """Predict the DOS (and properties) of every input structure into ``output``.

    Finished structures (by key: their source) are skipped, so calling again with the same
    inputs resumes. Bad structures go to the failures table (and to ``on_failure``) and the run
    continues. ``progress(done, failed)`` is called after every row with counts of this call.
    """
    start = time.perf_counter()
    pipeline = PredictionPipeline(bundle, properties=properties, temperatures=temperatures,
                                  property_options=property_options, device=device,
                                  batch_size=batch_size, backend=backend, workers=workers,
                                  chunk_size=chunk_size, client=client)
    store = ScreenStore(output, pipeline.description(), pipeline.columns,
                        spread=pipeline.ensemble)
    written = failed = 0
    try:
        done = store.finished_keys()
        for item in pipeline.run(inputs, skip=done):
            if isinstance(item, Failure):
                store.add_failure(item)
                failed += 1
                if on_failure is not None:
                    on_failure(item)
            else:
                store.add_row(item)
                written += 1
            if store.pending >= shard_size:
                store.flush()
            if progress:
                progress(written, failed)
    finally:
        store.close()  # whatever finished is kept, also on Ctrl-C or an error
    skipped = len(done)
    return ScreenSummary(written, failed, skipped, time.perf_counter() - start)
