"""Read back what :mod:`crystaldos.prediction.writers` wrote (JSONL, CSV or Parquet)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from crystaldos.errors import CrystalDosError, DatasetError
from crystaldos.spectra.grid import Grid


@dataclass
class PredictedSpectrum:
    """One row of a predictions file: id, DOS on ``grid`` in ``normalization``, other columns."""

    id: str
    grid: Grid
    normalization: str
    dos: np.ndarray
    values: dict[str, Any] = field(default_factory=dict)
    source: str = ""


_RESERVED = {"id", "grid", "normalization", "dos"}


def _grid(data: dict[str, Any], where: str) -> Grid:
    try:
        return Grid.from_dict(data)
    except Exception as exc:
        raise DatasetError(where, f"bad grid description: {exc}") from None


def _read_jsonl(path: Path) -> Iterator[PredictedSpectrum]:
    from crystaldos.datasets._io import iter_jsonl

    for n, rec in iter_jsonl(path):
        where = f"{path}:{n}"
        missing = [k for k in ("id", "grid", "dos") if k not in rec]
        if missing:
            raise DatasetError(where, f"a prediction line needs {missing}")
        dos = np.asarray(rec["dos"], dtype=np.float64)
        yield PredictedSpectrum(str(rec["id"]), _grid(rec["grid"], where),
                                str(rec.get("normalization") or "none"), dos,
                                {k: v for k, v in rec.items() if k not in _RESERVED}, where)


def _read_csv(path: Path) -> Iterator[PredictedSpectrum]:
    from crystaldos.prediction.writers import CSV_GRID_COLUMNS

    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        names = next(reader, None)
        if not names or names[0] != "id":
            raise DatasetError(str(path), "first column must be 'id'; not a crystaldos "
                                          "predictions CSV")
        missing = [c for c in CSV_GRID_COLUMNS if c not in names]
        if missing:
            raise DatasetError(str(path), f"no {', '.join(missing)} column; not a crystaldos "
                                          "predictions CSV")
        first_grid = names.index(CSV_GRID_COLUMNS[0])
        first_dos = first_grid + len(CSV_GRID_COLUMNS)
        count = len(names) - first_dos
        for n, row in enumerate(reader, start=2):
            where = f"{path}:{n}"
            if len(row) != len(names):
                raise DatasetError(where, f"{len(row)} cells but the header has {len(names)}")
            normalization, unit, start, step = row[first_grid:first_dos]
            try:
                start_value, step_value = float(start), float(step)
                dos = np.asarray(row[first_dos:], dtype=np.float64)
            except ValueError as exc:
                raise DatasetError(where, f"not a number: {exc}") from None
            grid = _grid({"start": start_value, "step": step_value, "count": count,
                          "unit": unit}, where)
            values = dict(zip(names[1:first_grid], row[1:first_grid], strict=True))
            yield PredictedSpectrum(row[0], grid, normalization or "none", dos, values, where)


def _read_parquet(path: Path) -> Iterator[PredictedSpectrum]:
    pf = pq.ParquetFile(path)
    meta = pf.schema_arrow.metadata or {}
    if b"crystaldos.grid" not in meta:
        raise DatasetError(str(path), "no crystaldos grid in the Parquet metadata")
    grid = _grid(json.loads(meta[b"crystaldos.grid"]), str(path))
    normalization = meta.get(b"crystaldos.normalization", b"none").decode()
    row_number = 0
    for batch in pf.iter_batches():
        for rec in batch.to_pylist():
            row_number += 1
            dos = np.asarray(rec.pop("dos"), dtype=np.float64)
            ident = str(rec.pop("id"))
            yield PredictedSpectrum(ident, grid, normalization, dos, rec,
                                    f"{path}:row {row_number}")


def read_predictions(path: str | Path) -> Iterator[PredictedSpectrum]:
    """Stream the rows of a predictions file (.jsonl, .csv or .parquet)."""
    path = Path(path)
    if not path.is_file():
        raise CrystalDosError(f"{path}: no such file")
    suffix = path.suffix.lower()
    readers = {".jsonl": _read_jsonl, ".csv": _read_csv, ".parquet": _read_parquet}
    if suffix not in readers:
        raise CrystalDosError(f"{path}: predictions must be .jsonl, .csv or .parquet")
    for item in readers[suffix](path):
        if item.dos.shape != (item.grid.count,):
            raise DatasetError(item.source, f"{item.dos.size} DOS values but the grid has "
                                            f"{item.grid.count} points")
        yield item
