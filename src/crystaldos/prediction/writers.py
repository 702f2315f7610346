"""Writers of predicted spectra: JSON lines, CSV or Parquet, chosen by the file extension.

Every format carries the grid and normalization. JSONL: one line per structure,
``{"id", "grid": {"start", "step", "count", "unit"}, "normalization", "dos": [...]}``. CSV: columns
``id`` and one per grid point named by its position (for example ``dos_-300``), with the grid and
normalization in ``# key: value`` header lines. Parquet: columns ``id`` and ``dos`` (list of
float32), with the grid and normalization in the schema metadata.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crystaldos.errors import CrystalDosError
from crystaldos.spectra.grid import Grid

OUTPUT_FORMATS = (".jsonl", ".csv", ".parquet")


class SpectrumWriter(Protocol):
    def write(self, ident: str, dos: np.ndarray) -> None: ...
    def close(self) -> None: ...


def _grid_header(grid: Grid) -> dict[str, Any]:
    return {"start": grid.start, "step": grid.step, "count": grid.count, "unit": grid.unit}


class JsonlWriter:
    def __init__(self, path: Path, grid: Grid, normalization: str) -> None:
        self.fh = path.open("w")
        self.grid = _grid_header(grid)
        self.normalization = normalization

    def write(self, ident: str, dos: np.ndarray) -> None:
        values = [round(float(v), 7) for v in dos]
        self.fh.write(json.dumps({"id": ident, "grid": self.grid,
                                  "normalization": self.normalization, "dos": values}) + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


class CsvWriter:
    def __init__(self, path: Path, grid: Grid, normalization: str) -> None:
        self.fh = path.open("w", newline="")
        for key, value in {**_grid_header(grid),
                           "normalization": normalization}.items():
            self.fh.write(f"# {key}: {value}\n")
        self.writer = csv.writer(self.fh)
        self.writer.writerow(["id", *(f"dos_{p:g}" for p in grid.points)])

    def write(self, ident: str, dos: np.ndarray) -> None:
        self.writer.writerow([ident, *(f"{float(v):.7g}" for v in dos)])
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


class ParquetWriter:
    """Buffers rows and writes a row group every ``chunk`` rows, so memory stays bounded."""

    def __init__(self, path: Path, grid: Grid, normalization: str, chunk: int = 1024) -> None:
        meta = {"crystaldos.grid": json.dumps(_grid_header(grid)),
                "crystaldos.normalization": normalization}
        self.schema = pa.schema([("id", pa.string()), ("dos", pa.list_(pa.float32()))],
                                metadata=meta)
        self.writer = pq.ParquetWriter(path, self.schema)
        self.ids: list[str] = []
        self.rows: list[np.ndarray] = []
        self.chunk = chunk

    def write(self, ident: str, dos: np.ndarray) -> None:
        self.ids.append(ident)
        self.rows.append(np.asarray(dos, dtype=np.float32))
        if len(self.ids) >= self.chunk:
            self._flush()

    def _flush(self) -> None:
        if self.ids:
            table = pa.table({"id": self.ids, "dos": [r.tolist() for r in self.rows]},
                             schema=self.schema)
            self.writer.write_table(table)
            self.ids, self.rows = [], []

    def close(self) -> None:
        self._flush()
        self.writer.close()


def open_writer(path: str | Path, grid: Grid, normalization: str) -> SpectrumWriter:
    """A writer for ``path`` by extension (.jsonl, .csv, .parquet); parent folders are created."""
    path = Path(path)
    suffix = path.suffix.lower()
    writers = {".jsonl": JsonlWriter, ".csv": CsvWriter, ".parquet": ParquetWriter}
    if suffix not in writers:
        raise CrystalDosError(f"{path}: output must end in one of {', '.join(OUTPUT_FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return writers[suffix](path, grid, normalization)
