"""Writers of predicted spectra: JSON lines, CSV or Parquet, chosen by the file extension.

Every writer writes under a temporary name and replaces the output only when complete
(:class:`crystaldos.safe_io.AtomicFile`), so an interrupted run leaves an earlier file intact.
Every format carries the grid and normalization, and per structure its id, optional typed
columns (by default :data:`INFO_COLUMNS`: the cell formula and volume, enough to derive
properties later) and the DOS values.

* JSONL: one line per structure, ``{"id", <columns>, "grid": {"start", "step", "count",
  "unit"}, "normalization", "dos": [...]}``; NaN is written as null.
* CSV: plain (``pandas.read_csv`` opens it as is): columns ``id``, the extra columns,
  ``normalization``, ``grid_unit``, ``grid_start``, ``grid_step``, then one per grid point named
  by its position (for example ``dos_-300``).
* Parquet: columns ``id``, the extra columns and ``dos`` (list of float32), with the grid and
  normalization in the schema metadata.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crystaldos.errors import CrystalDosError
from crystaldos.safe_io import AtomicFile, OutputError, describe_os_error
from crystaldos.spectra.grid import Grid

OUTPUT_FORMATS = (".jsonl", ".csv", ".parquet")
#: per-row columns of a CSV that describe its spectrum (before the ``dos_<point>`` columns).
CSV_GRID_COLUMNS = ("normalization", "grid_unit", "grid_start", "grid_step")
#: columns written with every prediction: the formula of the whole cell and its volume in Å^3.
INFO_COLUMNS: dict[str, str] = {"cell_formula": "str", "volume_A3": "float"}
ARROW_TYPES = {"str": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}


class SpectrumWriter(Protocol):
    """Writes rows under a temporary name: ``close()`` puts the complete file in place,
    ``abort()`` drops it and leaves any earlier file at ``path`` untouched."""

    def write(self, ident: str, dos: np.ndarray,
              values: Mapping[str, Any] | None = None) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


def grid_header(grid: Grid) -> dict[str, Any]:
    return {"start": grid.start, "step": grid.step, "count": grid.count, "unit": grid.unit}


def plain_value(value: Any) -> Any:
    """JSON/CSV-ready scalar: numpy scalars to Python, NaN to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class _Base:
    def __init__(self, path: Path, grid: Grid, normalization: str,
                 columns: Mapping[str, str]) -> None:
        unknown = {t for t in columns.values() if t not in ARROW_TYPES}
        if unknown:
            raise CrystalDosError(f"unknown column types {sorted(unknown)}")
        self.path, self.grid, self.normalization = path, grid, normalization
        self.columns = dict(columns)
        self.target = AtomicFile(path)

    def _close_handle(self) -> None:
        self.fh.close()

    def close(self) -> None:
        """Finish the file and put it in place of ``path``."""
        try:
            self._close_handle()
        except OSError as err:
            self.target.discard()
            raise OutputError(describe_os_error(self.path, err)) from None
        self.target.commit()

    def abort(self) -> None:
        """Drop what was written; an earlier file at ``path`` stays as it was."""
        with contextlib.suppress(Exception):
            self._close_handle()
        self.target.discard()

    def _row(self, values: Mapping[str, Any] | None) -> list[Any]:
        values = values or {}
        return [plain_value(values.get(name)) for name in self.columns]


class JsonlWriter(_Base):
    def __init__(self, path: Path, grid: Grid, normalization: str,
                 columns: Mapping[str, str]) -> None:
        super().__init__(path, grid, normalization, columns)
        self.fh = self.target.tmp.open("w")

    def write(self, ident: str, dos: np.ndarray, values: Mapping[str, Any] | None = None) -> None:
        record = {"id": ident, **dict(zip(self.columns, self._row(values), strict=True)),
                  "grid": grid_header(self.grid), "normalization": self.normalization,
                  "dos": [round(float(v), 7) for v in dos]}
        self.fh.write(json.dumps(record) + "\n")


class CsvWriter(_Base):
    """Plain CSV that any reader opens as is (no comment lines): per row the id, the extra
    columns, ``normalization``, ``grid_unit``, ``grid_start``, ``grid_step``, then one column per
    grid point named by its position (``dos_-300``...)."""

    def __init__(self, path: Path, grid: Grid, normalization: str,
                 columns: Mapping[str, str]) -> None:
        super().__init__(path, grid, normalization, columns)
        self.fh = self.target.tmp.open("w", newline="")
        self.writer = csv.writer(self.fh)
        self.writer.writerow(["id", *self.columns, *CSV_GRID_COLUMNS,
                              *(f"dos_{p:g}" for p in grid.points)])
        self.grid_cells = [normalization, grid.unit, f"{grid.start:.10g}", f"{grid.step:.10g}"]

    def write(self, ident: str, dos: np.ndarray, values: Mapping[str, Any] | None = None) -> None:
        cells = ["" if v is None else (f"{v:.10g}" if isinstance(v, float) else v)
                 for v in self._row(values)]
        self.writer.writerow([ident, *cells, *self.grid_cells,
                              *(f"{float(v):.7g}" for v in dos)])


class ParquetWriter(_Base):
    """Buffers rows and writes a row group every ``chunk`` rows, so memory stays bounded."""

    def __init__(self, path: Path, grid: Grid, normalization: str, columns: Mapping[str, str],
                 chunk: int = 1024) -> None:
        super().__init__(path, grid, normalization, columns)
        meta = {"crystaldos.grid": json.dumps(grid_header(grid)),
                "crystaldos.normalization": normalization}
        fields = [("id", pa.string()), *((n, ARROW_TYPES[t]) for n, t in self.columns.items()),
                  ("dos", pa.list_(pa.float32()))]
        self.schema = pa.schema(fields, metadata=meta)
        self.writer = pq.ParquetWriter(self.target.tmp, self.schema)
        self.rows: list[tuple[str, list[Any], np.ndarray]] = []
        self.chunk = chunk

    def write(self, ident: str, dos: np.ndarray, values: Mapping[str, Any] | None = None) -> None:
        self.rows.append((ident, self._row(values), np.asarray(dos, dtype=np.float32)))
        if len(self.rows) >= self.chunk:
            self._flush()

    def _flush(self) -> None:
        if not self.rows:
            return
        data: dict[str, list[Any]] = {"id": [r[0] for r in self.rows]}
        for k, name in enumerate(self.columns):
            data[name] = [r[1][k] for r in self.rows]
        data["dos"] = [r[2].tolist() for r in self.rows]
        self.writer.write_table(pa.table(data, schema=self.schema))
        self.rows = []

    def _close_handle(self) -> None:
        self._flush()
        self.writer.close()


def open_writer(path: str | Path, grid: Grid, normalization: str,
                columns: Mapping[str, str] | None = None) -> SpectrumWriter:
    """A writer for ``path`` by extension (.jsonl, .csv, .parquet); parent folders are created.

    ``columns`` maps extra column names to their types (str, float, int, bool); None means
    :data:`INFO_COLUMNS`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    writers = {".jsonl": JsonlWriter, ".csv": CsvWriter, ".parquet": ParquetWriter}
    if suffix not in writers:
        raise CrystalDosError(f"{path}: output must end in one of {', '.join(OUTPUT_FORMATS)}")
    return writers[suffix](path, grid, normalization, INFO_COLUMNS if columns is None
                           else columns)
