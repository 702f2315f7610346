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
    header: dict[str, str] = {}
    with path.open(newline="") as fh:
        lines = (line for line in fh)
        body = []
        for line in lines:
            if line.startswith("# "):
                key, _, value = line[2:].partition(":")
                header[key.strip()] = value.strip()
            else:
                body.append(line)
                break
        body.extend(lines)
    try:
        grid = _grid({k: (int(header[k]) if k == "count" else header[k] if k == "unit"
                          else float(header[k])) for k in ("start", "step", "count", "unit")},
                     str(path))
    except KeyError as exc:
        raise DatasetError(str(path), f"no '# {exc.args[0]}:' header line; not a crystaldos "
                                      "predictions CSV") from None
    reader = csv.reader(body)
    names = next(reader, None)
    if not names or names[0] != "id":
        raise DatasetError(str(path), "first column must be 'id'")
    first_dos = next((i for i, n in enumerate(names) if n.startswith("dos_")), len(names))
    if len(names) - first_dos != grid.count:
        raise DatasetError(str(path), f"{len(names) - first_dos} DOS columns but the grid has "
                                      f"{grid.count} points")
    for n, row in enumerate(reader, start=2):
        values = {k: v for k, v in zip(names[1:first_dos], row[1:first_dos], strict=True)}
        dos = np.asarray(row[first_dos:], dtype=np.float64)
        yield PredictedSpectrum(row[0], grid, header.get("normalization", "none"), dos,
                                values, f"{path}:{n}")


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
