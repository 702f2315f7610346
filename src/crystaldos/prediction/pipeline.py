"""The one inference pipeline: a stream of structures becomes a stream of rows and failures.

``predict`` is this pipeline with a file sink, ``screen`` with the resumable shard store, and the
Python API (:func:`crystaldos.prediction.predict_structures`) the pipeline alone. Steps:

1. read the inputs lazily (:func:`~crystaldos.structures.sources.structure_stream`); an input
   listed twice is predicted once, keys in ``skip`` (already finished) are passed over;
2. featurize a chunk at a time through the :class:`~crystaldos.graphs.featurizer.Featurizer`
   (in-process, local processes, Dask or Ray; at most a few chunks in flight);
3. batched inference on ``device``;
4. the spectrum in the requested shape normalization (a max-normalized one has its maximum at
   exactly 1), the properties derived on the model's own grid, then the spectrum moved onto the
   output grid conserving area.

The ``ood_score`` column measures how far the composition is from the training set (0: seen;
about 1: a typical new one; see :mod:`crystaldos.models.domain`), and the ``note`` column says
what a user should know before trusting a row: elements the model
never saw in training, a phonon spectrum cut by the top of its grid, properties that could not
be derived (:func:`crystaldos.models.domain.domain_notes`).

Rows (:class:`~crystaldos.prediction.schema.Row`) carry :data:`~crystaldos.prediction.schema.
BASE_COLUMNS` plus the property columns; a structure that gives no row becomes a
:class:`~crystaldos.prediction.schema.Failure`. Rows and failures come in input order of their
chunks; a failure found while reading comes as soon as it is read.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError, StructureError
from crystaldos.models.saving import ModelBundle
from crystaldos.prediction.schema import Failure, Row, row_columns
from crystaldos.spectra.grid import Grid
from crystaldos.spectra.spectrum import Spectrum
from crystaldos.structures.crystal import Crystal
from crystaldos.structures.sources import StructureFailure, source_file, structure_stream


def model_digest(bundle: ModelBundle) -> str:
    """First 16 hex digits of the SHA-256 of the model's weights (the tensors, in state-dict
    order), so that a run directory is never resumed with other weights under the same name."""
    import hashlib

    digest = hashlib.sha256()
    for name, tensor in bundle.model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


class PredictionPipeline:
    """Structures in, rows out, for one model and one set of output settings.

    ``normalization``: a shape normalization (max, sum, area) or the model's own (default);
    ``grid``: output grid (default: the model's); ``properties``: derive the properties of each
    DOS at ``temperatures`` with ``property_options``; ``device``: where inference runs;
    ``backend``/``workers``/``client``: where featurization runs (see the featurizer).
    """

    def __init__(self, bundle: ModelBundle, *, normalization: str | None = None,
                 grid: Grid | None = None, properties: bool = False,
                 temperatures: Sequence[float] = (300.0,),
                 property_options: Mapping[str, Any] | None = None, device: str = "cpu",
                 batch_size: int = 64, backend: str = "local", workers: int = 1,
                 chunk_size: int = 32, client: Any = None) -> None:
        from crystaldos.physics.properties import columns_for
        from crystaldos.prediction.rescale import check_rescalable

        self.bundle = bundle
        self.normalization = normalization or bundle.normalization
        check_rescalable(bundle.normalization, self.normalization)
        self.grid = grid or bundle.grid
        if self.grid.kind != bundle.grid.kind:
            article = "an" if self.grid.kind[0] in "aeiou" else "a"
            raise CrystalDosError(f"{article} {self.grid.kind} output grid for {bundle.name}, "
                                  f"which predicts {bundle.grid.kind} spectra")
        self.properties = properties
        self.temperatures = tuple(float(t) for t in temperatures)
        self.property_options = dict(property_options or {})
        self.property_columns = columns_for(bundle.grid.kind, self.temperatures) \
            if properties else {}
        self.ensemble = bundle.card["model_class"] == "DeepEnsemble"
        from crystaldos.models.electronic_heads import HEAD_COLUMNS, model_heads

        self.network_heads = model_heads(bundle.model) > 0
        self.gap_trees = bundle.gap_trees  # when set, they fill the head columns
        heads = HEAD_COLUMNS if self.network_heads or self.gap_trees is not None else {}
        if self.gap_trees is not None:
            heads = {**heads, **self.gap_trees.interval_columns()}
        extra = {**heads, **self.property_columns}
        if self.ensemble:
            from crystaldos.prediction.uncertainty import uncertainty_columns

            # the trees are one model: no spread across members for their columns
            spread_of = self.property_columns if self.gap_trees is not None else extra
            extra.update(uncertainty_columns(spread_of))
            calibration = bundle.card.get("uncertainty", {})
            self.dos_scale = float(calibration.get("dos_scale", 1.0))
            self.property_scales = dict(calibration.get("property_scale", {}))
        self.columns = row_columns(extra)
        self.device, self.batch_size = device, batch_size
        self.backend, self.workers, self.chunk_size, self.client = (backend, workers,
                                                                    chunk_size, client)

    def description(self) -> dict[str, Any]:
        """What the rows depend on (model, weights, gap trees, grid, normalization, columns): a
        resumed run must match it."""
        out = {"format": "crystaldos-rows-2", "model": self.bundle.name,
               "model_weights_sha256": model_digest(self.bundle),
               "model_card_target": self.bundle.card.get("target"),
               "grid": self.grid.to_dict(), "normalization": self.normalization,
               "properties": self.properties, "temperatures": list(self.temperatures),
               "columns": self.columns}
        if self.gap_trees is not None:
            out["gap_trees_sha256"] = self.gap_trees.digest()
        return out

    def _properties(self, cell: Any, dos: np.ndarray,
                    notes: list[str] | None) -> dict[str, Any]:
        """The property columns of one spectrum on the model grid (failures go to ``notes``;
        without ``notes`` a failure gives an empty dict)."""
        from crystaldos.physics.properties import properties_for

        grid = self.bundle.grid
        try:
            return properties_for(grid.kind, grid, dos, self.normalization, cell,
                                  self.temperatures, **self.property_options)
        except CrystalDosError as exc:
            if notes is not None:
                notes.append(f"no properties: {exc}")
            return {}

    def _row(self, crystal: Crystal, raw: np.ndarray) -> Row:
        """The row of one structure from the model's raw output: (n,) for a single model,
        (M, n) member spectra for an ensemble."""
        from crystaldos.models.domain import domain_notes
        from crystaldos.physics.cell import CellInfo
        from crystaldos.prediction.rescale import rescale_prediction
        from crystaldos.spectra.resample import rebin

        model_grid = self.bundle.grid
        spread = members = None
        head_columns: dict[str, float] = {}
        if self.network_heads:
            from crystaldos.models.electronic_heads import head_values, split_outputs

            raw, heads = split_outputs(raw, model_grid.count)
            if self.gap_trees is None:
                head_columns = head_values(heads)
        if self.gap_trees is not None:
            head_columns = self.gap_trees.head_values(crystal)
        if self.ensemble:
            from crystaldos.prediction import uncertainty as unc

            members = unc.member_spectra(raw, model_grid, self.bundle.normalization,
                                         self.normalization)
            dos, spread = unc.ensemble_spectrum(members, model_grid, self.normalization,
                                                self.dos_scale)
        else:
            dos = rescale_prediction(raw, model_grid, self.bundle.normalization,
                                     self.normalization)
        cell = CellInfo.from_crystal(crystal)
        notes = domain_notes(crystal, self.bundle.card.get("domain"), model_grid, dos)
        if "metal_probability" in head_columns:
            from crystaldos.models.electronic_heads import metallicity_note

            note = metallicity_note(crystal.species, head_columns["metal_probability"])
            notes += [note] if note else []
        values: dict[str, Any] = {
            "key": crystal.source, "id": crystal.id, "formula": cell.reduced_formula,
            "cell_formula": crystal.formula, "n_atoms": crystal.n_atoms,
            "volume_A3": crystal.volume, "ood_score": self.bundle.composition_distance(crystal),
            "file": source_file(crystal.source), "note": "", **head_columns}
        if self.properties:
            derived = self._properties(cell, dos, notes)
            for name in self.property_columns:
                if name not in values:
                    values[name] = derived.get(name)
        if self.ensemble:
            from crystaldos.prediction import uncertainty as unc

            if self.properties:
                member_rows = [self._properties(cell, m, None) for m in members]
                values.update(unc.property_spreads(member_rows, self.property_columns,
                                                   self.property_scales))
            values["dos_spread"] = unc.dos_spread(dos, spread)
        values["note"] = "; ".join(notes)
        if self.grid != model_grid:
            dos = rescale_prediction(rebin(dos, model_grid, self.grid), self.grid,
                                     self.normalization, self.normalization)
            if spread is not None:  # rebinned like a spectrum: an upper bound of the spread
                spread = rebin(spread, model_grid, self.grid)
        return Row(Spectrum(dos, self.grid, self.normalization), values, crystal,
                   None if spread is None else Spectrum(spread, self.grid, self.normalization))

    def run(self, inputs: Iterable[str | Path] | Iterable[Crystal | StructureFailure], *,
            skip: set[str] | frozenset[str] = frozenset()) -> Iterator[Row | Failure]:
        """Rows and failures of every input structure (see the module docstring)."""
        from crystaldos.graphs.featurizer import Featurizer
        from crystaldos.prediction.engine import predict_graphs

        seen = set(skip)
        failures: list[Failure] = []

        def todo() -> Iterator[Crystal]:
            for item in structure_stream(inputs):
                key = item.source
                if key in seen:
                    continue
                seen.add(key)
                if isinstance(item, StructureFailure):
                    failures.append(Failure(key, "", source_file(key), item.reason))
                    continue
                yield item

        def chunks() -> Iterator[list[Crystal]]:
            items = todo()
            while chunk := list(itertools.islice(items, self.chunk_size)):
                yield chunk

        model = self.bundle.model.to(self.device)
        batch: list[tuple[Crystal, Any]] = []

        def run_batch() -> Iterator[Row]:
            values = predict_graphs(model, [g for _, g in batch], batch_size=len(batch),
                                    device=self.device)
            for (crystal, _), raw in zip(batch, values, strict=True):
                try:
                    yield self._row(crystal, raw)
                except StructureError as err:  # e.g. the gap trees' potential refuses it
                    yield Failure(crystal.source, crystal.id, source_file(crystal.source),
                                  err.problem)
            batch.clear()

        with Featurizer(self.bundle.graph_settings, self.backend, self.workers,
                        self.client) as featurizer:
            for crystals, graphs in featurizer.map(chunks()):
                yield from failures
                failures.clear()
                for crystal, graph in zip(crystals, graphs, strict=True):
                    if isinstance(graph, str):
                        yield Failure(crystal.source, crystal.id, source_file(crystal.source),
                                      graph)
                        continue
                    batch.append((crystal, graph))
                    if len(batch) == self.batch_size:
                        yield from run_batch()
            if batch:
                yield from run_batch()
            yield from failures
