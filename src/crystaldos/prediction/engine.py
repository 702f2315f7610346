"""Batched inference of spectral models on graphs or directly on structure files."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Batch

from crystaldos.errors import StructureError
from crystaldos.graphs.crystal_graph import CrystalGraph, GraphSettings, build_graph
from crystaldos.models.saving import ModelBundle
from crystaldos.structures.crystal import Crystal
from crystaldos.structures.sources import StructureFailure, iter_inputs


@dataclass(frozen=True)
class Prediction:
    """The predicted spectrum of one structure, on the model's grid and in its normalization
    (a shape normalization exactly: a max-normalized spectrum has its maximum at 1)."""

    id: str
    source: str
    dos: np.ndarray
    crystal: Crystal | None = None


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


def _batches(items: Iterable[Crystal | StructureFailure], settings: GraphSettings,
             batch_size: int, on_failure: Callable[[StructureFailure], None],
             ) -> Iterator[tuple[list[Crystal], list[CrystalGraph]]]:
    crystals: list[Crystal] = []
    graphs: list[CrystalGraph] = []
    for item in items:
        if isinstance(item, str | Path):
            raise TypeError("give paths as a list, or crystals as any iterable")
        if isinstance(item, StructureFailure):
            on_failure(item)
            continue
        try:
            graphs.append(build_graph(item, settings))
        except StructureError as err:
            on_failure(StructureFailure.from_error(err))
            continue
        crystals.append(item)
        if len(graphs) == batch_size:
            yield crystals, graphs
            crystals, graphs = [], []
    if graphs:
        yield crystals, graphs


def predict_structures(bundle: ModelBundle,
                       inputs: Iterable[str | Path] | Iterable[Crystal | StructureFailure], *,
                       batch_size: int = 64, device: str | torch.device = "cpu",
                       on_failure: Callable[[StructureFailure], None] | None = None,
                       ) -> Iterator[Prediction]:
    """Predict every structure of ``inputs``, in input order: a list of paths (files,
    folders, globs) or any iterable of Crystals (and StructureFailures), which is streamed.

    The graph settings come from the model card. A bad file, frame or structure goes to
    ``on_failure`` (default: raise its error) and the rest carry on.
    """
    stream: Iterable[Crystal | StructureFailure]
    if isinstance(inputs, list | tuple) and all(isinstance(x, str | Path) for x in inputs):
        stream = iter_inputs(inputs)
    else:  # crystals and failures, streamed without being collected first
        stream = inputs  # type: ignore[assignment]

    def fail(failure: StructureFailure) -> None:
        if on_failure is None:
            raise StructureError(failure.source, failure.reason)
        on_failure(failure)

    from crystaldos.prediction.rescale import rescale_prediction

    model = bundle.model.to(device)
    norm = bundle.normalization
    for crystals, graphs in _batches(stream, bundle.graph_settings, batch_size, fail):
        values = predict_graphs(model, graphs, batch_size=batch_size, device=device)
        for crystal, dos in zip(crystals, values, strict=True):
            yield Prediction(crystal.id, crystal.source,
                             rescale_prediction(dos, bundle.grid, norm, norm), crystal)
