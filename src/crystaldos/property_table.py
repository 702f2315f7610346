"""Property tables from spectra files: predictions or data sets in, one row per material out.

The glue between files and :mod:`crystaldos.physics` (which knows nothing of files). Sources:

* a predictions file written by ``crystaldos predict`` (.jsonl, .csv, .parquet), whose rows carry
  the cell formula and volume;
* a data set: ``jarvis-phonon``, ``mp-phonon``, a JSON-lines data set with structures, or an
  ``id_prop.csv`` folder (materials with a spectrum only).

Structures named with ``--structures`` (matched by id) override what the rows carry.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError, SourcedError
from crystaldos.physics.cell import CellInfo
from crystaldos.physics.properties import properties_for
from crystaldos.prediction.writers import ARROW_TYPES, plain_value
from crystaldos.safe_io import AtomicFile
from crystaldos.spectra.grid import Grid

TABLE_FORMATS = (".csv", ".jsonl", ".parquet")


@dataclass
class SpectrumItem:
    """A spectrum with what is known of its cell (None when nothing is)."""

    id: str
    grid: Grid
    normalization: str
    dos: np.ndarray
    cell: CellInfo | None
    source: str


@dataclass(frozen=True)
class ItemFailure:
    id: str
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.id}: {self.reason}"


def _cell_from_values(values: Mapping[str, Any], where: str) -> CellInfo | None:
    formula = values.get("cell_formula")
    if not formula:
        return None
    volume = values.get("volume_A3")
    try:
        volume = float(volume) if volume not in (None, "") else None
        return CellInfo.from_formula(str(formula), volume)
    except (CrystalDosError, ValueError) as exc:
        raise SourcedError(where, str(exc)) from None


def _looks_like_predictions(path: Path) -> bool:
    if path.suffix.lower() in (".csv", ".parquet"):
        return True
    from crystaldos.datasets._io import iter_jsonl

    for _, rec in iter_jsonl(path):
        return not any(k in rec for k in ("lattice", "atoms", "species"))
    raise CrystalDosError(f"{path}: file has no records")


def iter_spectra(source: str, *, split: str | None = None,
                 data_root: str | Path | None = None) -> Iterator[SpectrumItem]:
    """Spectra of a predictions file or a data set (records without a spectrum are skipped)."""
    from crystaldos.datasets.named import NAMED_DATASETS, load_dataset

    path = Path(source)
    if source not in NAMED_DATASETS and not path.exists():
        raise CrystalDosError(f"{source}: no such file or folder, and not one of "
                              f"{', '.join(NAMED_DATASETS)}")
    if source not in NAMED_DATASETS and path.is_file() and _looks_like_predictions(path):
        from crystaldos.prediction.readers import read_predictions

        if split is not None:
            raise CrystalDosError("--split applies to data sets, not to predictions files")
        for item in read_predictions(path):
            yield SpectrumItem(item.id, item.grid, item.normalization, item.dos,
                               _cell_from_values(item.values, item.source), item.source)
        return
    dataset = load_dataset(source, data_root=data_root)
    if split is not None:
        dataset = dataset.split(split)
    for rec in dataset.with_spectra():
        cell = CellInfo.from_crystal(rec.crystal) if rec.crystal is not None else None
        yield SpectrumItem(rec.id, dataset.grid, dataset.normalization, rec.dos, cell,
                           dataset.source or dataset.name)


def load_cells(inputs: Sequence[str | Path],
               on_failure: Callable[[str], None] | None = None) -> dict[str, CellInfo]:
    """CellInfo by structure id from structure files, folders or globs (bad ones reported)."""
    from crystaldos.structures.sources import StructureFailure, iter_inputs

    cells: dict[str, CellInfo] = {}
    for item in iter_inputs(inputs):
        if isinstance(item, StructureFailure):
            if on_failure is not None:
                on_failure(str(item))
            continue
        cells[item.id] = CellInfo.from_crystal(item)
    return cells


def check_kind(item: SpectrumItem, kind: str) -> None:
    """Raise when the spectra are not of the requested property kind."""
    if item.grid.kind != kind:
        raise CrystalDosError(f"--kind {kind} but the spectra are on a {item.grid.kind} grid")


def property_rows(items: Iterable[SpectrumItem], kind: str, temperatures: Sequence[float],
                  *, cells: Mapping[str, CellInfo] | None = None,
                  on_failure: Callable[[ItemFailure], None] | None = None,
                  **options: Any) -> Iterator[dict[str, Any]]:
    """``{"id": ..., <property columns>}`` per item; an item that fails goes to ``on_failure``
    (default: raise) and the rest carry on."""
    for item in items:
        check_kind(item, kind)  # a wrong --kind is the caller's error, not the item's
        cell = item.cell
        if cells is not None and item.id in cells:
            cell = cells[item.id]
        try:
            row = properties_for(kind, item.grid, item.dos, item.normalization, cell,
                                 temperatures, **options)
        except CrystalDosError as exc:
            failure = ItemFailure(item.id, item.source, str(exc))
            if on_failure is None:
                raise SourcedError(f"{item.source}: {item.id}", str(exc)) from None
            on_failure(failure)
            continue
        yield {"id": item.id, **row}


class TableWriter:
    """Streams property rows to .csv or .jsonl, or .parquet (at close), under a temporary name
    that replaces the path only at :meth:`close` (:meth:`abort` leaves an earlier file)."""

    def __init__(self, path: str | Path, columns: Mapping[str, str]) -> None:
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in TABLE_FORMATS:
            raise CrystalDosError(f"{self.path}: output must end in one of "
                                  f"{', '.join(TABLE_FORMATS)}")
        self.columns = {"id": "str", **columns}
        self.target = AtomicFile(self.path)
        self.rows: list[dict[str, Any]] = []
        self.fh = None
        if self.suffix in (".csv", ".jsonl"):
            self.fh = self.target.tmp.open("w", newline="")
        if self.suffix == ".csv":
            self.csv = csv.writer(self.fh)
            self.csv.writerow(list(self.columns))

    def write(self, row: Mapping[str, Any]) -> None:
        values = {k: plain_value(row.get(k)) for k in self.columns}
        if self.suffix == ".csv":
            self.csv.writerow(["" if v is None else (f"{v:.10g}" if isinstance(v, float) else v)
                               for v in values.values()])
        elif self.suffix == ".jsonl":
            self.fh.write(json.dumps(values) + "\n")
        else:
            self.rows.append(values)

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
        if self.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.schema([(n, ARROW_TYPES[t]) for n, t in self.columns.items()])
            data = {n: [r[n] for r in self.rows] for n in self.columns}
            pq.write_table(pa.table(data, schema=schema), self.target.tmp)
        self.target.commit()

    def abort(self) -> None:
        """Drop the unfinished table; an earlier file at the path stays as it was."""
        if self.fh is not None:
            self.fh.close()
        self.target.discard()
