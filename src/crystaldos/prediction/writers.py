"""Table files of rows: JSON lines, CSV or Parquet, chosen by the file extension.

One writer for every table the package writes: predictions (rows with a DOS on one grid),
property tables and shortlists (rows without). Every writer writes under a temporary name and
replaces the output only when complete (:class:`crystaldos.safe_io.AtomicFile`), so an interrupted
run leaves an earlier file intact.

* JSONL: one object per row, the columns, then (with a DOS) ``"grid": {"start", "step",
  "count", "unit", "kind"}``, ``"normalization"`` and ``"dos": [...]``; NaN is written as null.
* CSV: plain (``pandas.read_csv`` opens it as is): the columns, then (with a DOS)
  ``normalization``, ``grid_unit``, ``grid_start``, ``grid_step`` and one column per grid point
  named by its position (for example ``dos_-300``).
* Parquet: the columns and (with a DOS) ``dos`` (list of float32), with the grid and the
  normalization in the schema metadata.

Rows of an ensemble also carry the per-bin spread of their DOS (``spread=True``): ``dos_std``
(JSONL, Parquet) or ``dos_std_<point>`` columns after the DOS (CSV), on the DOS's grid and scale.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.prediction.schema import COLUMN_TYPES, DOS_STD, Row, arrow_type, plain_value
from crystaldos.safe_io import AtomicFile, OutputError, describe_os_error
from crystaldos.spectra.grid import Grid
from crystaldos.spectra.spectrum import Spectrum

OUTPUT_FORMATS = (".jsonl", ".csv", ".parquet")
#: per-row columns of a CSV that describe its spectrum (before the ``dos_<point>`` columns).
CSV_GRID_COLUMNS = ("normalization", "grid_unit", "grid_start", "grid_step")


class TableWriter(Protocol):
    """Writes rows under a temporary name: ``close()`` puts the complete file in place,
    ``abort()`` drops it and leaves any earlier file at ``path`` untouched."""

    def write(self, values: Mapping[str, Any], spectrum: Spectrum | None = None,
              spread: Spectrum | None = None) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


class _Base:
    def __init__(self, path: Path, columns: Mapping[str, str], grid: Grid | None,
                 normalization: str | None, spread: bool = False) -> None:
        unknown = {t for t in columns.values() if t not in COLUMN_TYPES}
        if unknown:
            raise CrystalDosError(f"unknown column types {sorted(unknown)}")
        if spread and grid is None:
            raise CrystalDosError(f"{path}: a DOS spread needs a grid")
        self.path, self.grid, self.normalization = path, grid, normalization or "none"
        self.spread = spread
        self.columns = dict(columns)
        self.target = AtomicFile(path)

    def _cells(self, values: Mapping[str, Any]) -> list[Any]:
        return [plain_value(values.get(name)) for name in self.columns]

    def _check(self, spectrum: Spectrum | None) -> np.ndarray | None:
        if self.grid is None:
            return None
        if spectrum is None:
            raise CrystalDosError(f"{self.path}: a row without a spectrum in a spectra table")
        if spectrum.grid != self.grid or spectrum.normalization != self.normalization:
            raise CrystalDosError(f"{self.path}: a spectrum on {spectrum.grid} "
                                  f"({spectrum.normalization}) in a table of {self.grid} "
                                  f"({self.normalization})")
        return spectrum.values

    def _check_spread(self, spread: Spectrum | None) -> np.ndarray | None:
        if not self.spread:
            return None
        if spread is None:
            raise CrystalDosError(f"{self.path}: a row without its DOS spread")
        return self._check(spread)

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


class JsonlWriter(_Base):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.fh = self.target.tmp.open("w")

    def write(self, values: Mapping[str, Any], spectrum: Spectrum | None = None,
              spread: Spectrum | None = None) -> None:
        record = dict(zip(self.columns, self._cells(values), strict=True))
        dos, std = self._check(spectrum), self._check_spread(spread)
        if dos is not None:
            record.update(grid=self.grid.to_dict(), normalization=self.normalization,
                          dos=[round(float(v), 7) for v in dos])
        if std is not None:
            record[DOS_STD] = [round(float(v), 7) for v in std]
        self.fh.write(json.dumps(record) + "\n")


class CsvWriter(_Base):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.fh = self.target.tmp.open("w", newline="")
        self.writer = csv.writer(self.fh)
        header = list(self.columns)
        self.grid_cells: list[str] = []
        if self.grid is not None:
            header += [*CSV_GRID_COLUMNS, *(f"dos_{p:g}" for p in self.grid.points)]
            if self.spread:
                header += [f"{DOS_STD}_{p:g}" for p in self.grid.points]
            self.grid_cells = [self.normalization, self.grid.unit, f"{self.grid.start:.10g}",
                               f"{self.grid.step:.10g}"]
        self.writer.writerow(header)

    def write(self, values: Mapping[str, Any], spectrum: Spectrum | None = None,
              spread: Spectrum | None = None) -> None:
        cells = ["" if v is None else (f"{v:.10g}" if isinstance(v, float) else v)
                 for v in self._cells(values)]
        dos, std = self._check(spectrum), self._check_spread(spread)
        if dos is not None:
            cells += [*self.grid_cells, *(f"{float(v):.7g}" for v in dos)]
        if std is not None:
            cells += [f"{float(v):.7g}" for v in std]
        self.writer.writerow(cells)


class ParquetWriter(_Base):
    """Buffers rows and writes a row group every ``chunk`` rows, so memory stays bounded."""

    chunk = 1024

    def __init__(self, *args: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(*args)
        meta = None
        fields = [(n, arrow_type(t)) for n, t in self.columns.items()]
        if self.grid is not None:
            meta = {"crystaldos.grid": json.dumps(self.grid.to_dict()),
                    "crystaldos.normalization": self.normalization}
            fields.append(("dos", pa.list_(pa.float32())))
            if self.spread:
                fields.append((DOS_STD, pa.list_(pa.float32())))
        self.schema = pa.schema(fields, metadata=meta)
        self.writer = pq.ParquetWriter(self.target.tmp, self.schema)
        self.rows: list[tuple[list[Any], np.ndarray | None, np.ndarray | None]] = []

    def write(self, values: Mapping[str, Any], spectrum: Spectrum | None = None,
              spread: Spectrum | None = None) -> None:
        dos, std = self._check(spectrum), self._check_spread(spread)
        self.rows.append((self._cells(values),
                          None if dos is None else np.asarray(dos, dtype=np.float32),
                          None if std is None else np.asarray(std, dtype=np.float32)))
        if len(self.rows) >= self.chunk:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if not self.rows:
            return
        data: dict[str, list[Any]] = {name: [r[0][k] for r in self.rows]
                                      for k, name in enumerate(self.columns)}
        if self.grid is not None:
            data["dos"] = [r[1].tolist() for r in self.rows]
        if self.spread:
            data[DOS_STD] = [r[2].tolist() for r in self.rows]
        self.writer.write_table(pa.table(data, schema=self.schema))
        self.rows = []

    def _close_handle(self) -> None:
        self._flush()
        self.writer.close()


def open_writer(path: str | Path, columns: Mapping[str, str], grid: Grid | None = None,
                normalization: str | None = None, spread: bool = False) -> TableWriter:
    """A writer for ``path`` by extension (.jsonl, .csv, .parquet); parent folders are created.

    ``columns`` maps column names to their types (str, float, int, bool); with a ``grid`` every
    row also carries its spectrum on that grid in ``normalization`` (and with ``spread`` the
    spectrum's per-bin spread).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    writers = {".jsonl": JsonlWriter, ".csv": CsvWriter, ".parquet": ParquetWriter}
    if suffix not in writers:
        raise CrystalDosError(f"{path}: output must end in one of {', '.join(OUTPUT_FORMATS)}")
    return writers[suffix](path, columns, grid, normalization, spread)


def write_row(writer: TableWriter, row: Row) -> None:
    writer.write(row.values, row.spectrum, row.spread)


def write_arrow_table(table: Any, path: str | Path) -> Path:
    """Write a pyarrow Table without spectra (a shortlist) through :func:`open_writer`."""
    from crystaldos.safe_io import committing

    kinds = {"string": "str", "large_string": "str", "int64": "int", "int32": "int",
             "double": "float", "float": "float", "bool": "bool"}
    columns = {f.name: kinds.get(str(f.type), "str") for f in table.schema
               if not str(f.type).startswith("list")}
    writer = open_writer(path, columns)
    with committing(writer, path):
        for values in table.select(list(columns)).to_pylist():
            writer.write(values)
    return Path(path)
