"""Read back the rows that :mod:`crystaldos.prediction.writers` wrote (JSONL, CSV or Parquet),
as :class:`~crystaldos.prediction.schema.Row` objects with their spectra."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from crystaldos.errors import CrystalDosError, DatasetError, SpectrumError
from crystaldos.prediction.schema import DOS, DOS_STD, ID, KEY, Failure, Row
from crystaldos.spectra.grid import Grid
from crystaldos.spectra.spectrum import Spectrum

_RESERVED = {"grid", "normalization", DOS, DOS_STD}


def _grid(data: Any, where: str) -> Grid | DatasetError:
    """The grid a row describes, or the error to report for that row."""
    try:
        grid = Grid.from_dict(data)
    except Exception as exc:
        return DatasetError(where, f"bad grid description: {exc}")
    if abs(grid.start) > 1e6 or not 1e-6 < grid.step < 1e6 or grid.count > 100_000:
        return DatasetError(where, f"implausible grid (start {grid.start:g}, step "
                                   f"{grid.step:g}, {grid.count} points)")
    return grid


def _row(values: dict[str, Any], grid: Grid | DatasetError, normalization: str, dos: Any,
         where: str, std: Any = None) -> Row | Failure:
    """A row from what a file holds, or a :class:`Failure` naming ``where`` when its grid is
    bad, its spectrum does not fit the grid, holds non-numbers or names an unknown
    normalization."""
    try:
        row = _checked_row(values, grid, normalization, dos, where)
        if std is not None:
            row.spread = _checked_row({}, grid, normalization, std, where).spectrum
        return row
    except DatasetError as err:
        return Failure(where, str(values.get(ID, "")), str(values.get("file", "")), err.problem)


def _checked_row(values: dict[str, Any], grid: Grid | DatasetError, normalization: str,
                 dos: Any, where: str) -> Row:
    if isinstance(grid, DatasetError):
        raise grid
    try:
        array = np.asarray(dos, dtype=np.float64)
    except (TypeError, ValueError):
        raise DatasetError(where, "DOS values must be numbers") from None
    if array.ndim != 1 or array.size != grid.count:
        raise DatasetError(where, f"DOS must be a list of {grid.count} numbers (the grid's "
                                  f"points), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise DatasetError(where, "DOS holds NaN or infinite values")
    try:
        spectrum = Spectrum(array, grid, normalization)
    except SpectrumError as exc:
        raise DatasetError(where, str(exc)) from None
    values.setdefault(KEY, where)
    return Row(spectrum, values)


def _read_jsonl(path: Path) -> Iterator[Row | Failure]:
    from crystaldos.datasets._io import iter_jsonl

    for n, rec in iter_jsonl(path):
        where = f"{path}:{n}"
        missing = [k for k in ("id", "grid", "dos") if k not in rec]
        if missing:
            yield Failure(where, str(rec.get("id", "")), "", f"a prediction line needs "
                                                             f"{', '.join(missing)}")
            continue
        values = {k: v for k, v in rec.items() if k not in _RESERVED}
        values[ID] = str(rec["id"])
        yield _row(values, _grid(rec["grid"], where), str(rec.get("normalization") or "none"),
                   rec["dos"], where, rec.get(DOS_STD))


def _read_csv(path: Path) -> Iterator[Row | Failure]:
    from crystaldos.prediction.writers import CSV_GRID_COLUMNS

    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        names = next(reader, None) or []
        missing = [c for c in (ID, *CSV_GRID_COLUMNS) if c not in names]
        if missing:
            raise DatasetError(str(path), f"no {', '.join(missing)} column; not a crystaldos "
                                          "predictions CSV")
        first_grid = names.index(CSV_GRID_COLUMNS[0])
        first_dos = first_grid + len(CSV_GRID_COLUMNS)
        first_std = next((k for k, name in enumerate(names) if name.startswith(f"{DOS_STD}_")),
                         len(names))
        count = first_std - first_dos
        id_column = names.index(ID)
        for n, row in enumerate(reader, start=2):
            where = f"{path}:{n}"
            if len(row) != len(names):
                yield Failure(where, row[id_column] if len(row) > id_column else "", "",
                              f"{len(row)} cells but the header has {len(names)}")
                continue
            normalization, unit, start, step = row[first_grid:first_dos]
            grid = _grid({"start": start, "step": step, "count": count, "unit": unit}, where)
            values = dict(zip(names[:first_grid], row[:first_grid], strict=True))
            yield _row(values, grid, normalization or "none", row[first_dos:first_std], where,
                       row[first_std:] if first_std < len(names) else None)


def _read_parquet(path: Path) -> Iterator[Row | Failure]:
    pf = pq.ParquetFile(path)
    meta = pf.schema_arrow.metadata or {}
    if b"crystaldos.grid" not in meta:
        raise DatasetError(str(path), "no crystaldos grid in the Parquet metadata")
    grid = _grid(json.loads(meta[b"crystaldos.grid"]), str(path))
    if isinstance(grid, DatasetError):
        raise grid
    normalization = meta.get(b"crystaldos.normalization", b"none").decode()
    row_number = 0
    for batch in pf.iter_batches():
        for rec in batch.to_pylist():
            row_number += 1
            dos, std = rec.pop(DOS), rec.pop(DOS_STD, None)
            yield _row(rec, grid, normalization, dos, f"{path}:row {row_number}", std)


def read_predictions(path: str | Path) -> Iterator[Row | Failure]:
    """Stream the rows of a predictions file (.jsonl, .csv or .parquet); a bad row comes as a
    :class:`Failure` naming the file and line, and reading goes on. A file that is not a
    predictions table at all raises a one-line :class:`DatasetError`."""
    path = Path(path)
    if not path.is_file():
        raise CrystalDosError(f"{path}: no such file")
    suffix = path.suffix.lower()
    readers = {".jsonl": _read_jsonl, ".csv": _read_csv, ".parquet": _read_parquet}
    if suffix not in readers:
        raise CrystalDosError(f"{path}: predictions must be .jsonl, .csv or .parquet")
    yield from readers[suffix](path)
