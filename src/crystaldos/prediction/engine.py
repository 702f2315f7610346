"""Batched inference of spectral models on graphs, and the Python face of the pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Batch

from crystaldos.errors import StructureError
from crystaldos.graphs.crystal_graph import CrystalGraph
from crystaldos.models.saving import ModelBundle
from crystaldos.prediction.schema import Failure, Row
from crystaldos.structures.crystal import Crystal
from crystaldos.structures.sources import StructureFailure


@torch.no_grad()
def predict_graphs(model: nn.Module, graphs: Sequence[CrystalGraph], *, batch_size: int = 64,
                   device: str | torch.device = "cpu") -> np.ndarray:
    """(n, count) float32 predictions for a list of graphs, in batches, model in eval mode."""
    was_training = model.training
    model.eval()
    out = []
    try:
        for start in range(0, len(graphs), batch_size):
            batch = Batch.from_data_list(list(graphs[start:start + batch_size])).to(device)
            out.append(model(batch).float().cpu().numpy())
    finally:
        model.train(was_training)
    if not out:
        return np.zeros((0, getattr(model, "n_out", 0)), dtype=np.float32)
    return np.concatenate(out)


def predict_structures(bundle: ModelBundle,
                       inputs: Iterable[str | Path] | Iterable[Crystal | StructureFailure], *,
                       batch_size: int = 64, device: str | torch.device = "cpu",
                       on_failure: Callable[[Failure], None] | None = None,
                       **options: Any) -> Iterator[Row]:
    """Predict every structure of ``inputs``: a list of paths (files, folders, globs) or any
    iterable of Crystals (and StructureFailures), which is streamed. The Python face of
    :class:`~crystaldos.prediction.pipeline.PredictionPipeline` (``options`` go to it).

    A bad file, frame or structure goes to ``on_failure`` (default: raise its error) and the
    rest carry on.
    """
    from crystaldos.prediction.pipeline import PredictionPipeline

    pipeline = PredictionPipeline(bundle, batch_size=batch_size, device=str(device), **options)
    for item in pipeline.run(inputs):
        if isinstance(item, Failure):
            if on_failure is None:
                raise StructureError(item.key, item.reason)
            on_failure(item)
            continue
        yield item


def predict_to_file(pipeline: Any, inputs: Iterable[str | Path] | Iterable[Crystal |
                    StructureFailure], output: str | Path, *,
                    failures: str | Path | None = None,
                    on_row: Callable[[Row], None] | None = None,
                    on_failure: Callable[[Failure], None] | None = None) -> tuple[int, int]:
    """Run ``pipeline`` (a :class:`~crystaldos.prediction.pipeline.PredictionPipeline`) over
    ``inputs`` into the table ``output`` (.jsonl, .csv or .parquet), and the skipped structures
    into ``failures`` when given. Each file holds its old content or the complete new one.
    Returns (rows written, structures skipped); raises when no row was written (``output``
    then stays as it was)."""
    import contextlib

    from crystaldos.errors import CrystalDosError
    from crystaldos.prediction.schema import FAILURE_COLUMNS
    from crystaldos.prediction.writers import open_writer, write_row
    from crystaldos.safe_io import committing

    writer = open_writer(output, pipeline.columns, pipeline.grid, pipeline.normalization,
                         spread=pipeline.ensemble)
    failure_writer = None if failures is None else open_writer(
        failures, dict.fromkeys(FAILURE_COLUMNS, "str"))
    done = failed = 0
    with contextlib.ExitStack() as stack:
        stack.enter_context(committing(writer, output))
        if failure_writer is not None:
            stack.enter_context(committing(failure_writer, failures))
        for item in pipeline.run(inputs):
            if isinstance(item, Failure):
                failed += 1
                if failure_writer is not None:
                    failure_writer.write(item.values())
                if on_failure is not None:
                    on_failure(item)
                continue
            write_row(writer, item)
            done += 1
            if on_row is not None:
                on_row(item)
        if done == 0:
            raise CrystalDosError(f"no structure predicted ({failed} skipped); {output} left "
                                  "unchanged")
    return done, failed
