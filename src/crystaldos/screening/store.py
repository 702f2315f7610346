"""Screening output that survives anything: Parquet shards committed by an atomic rename.

A run directory holds::

    screen.json                 what was run (model, grid, columns); a rerun must match it
    rows-00000.parquet ...      result rows, one shard per flush, each with its structure
                                (the STRUCTURE_COLUMNS), so nothing re-reads the inputs
    failures-00000.parquet ...  structures that could not be screened: key, id, file, reason

Each shard is written to a hidden temporary file, flushed to disk and renamed into place, so a
shard either exists complete or not at all. The *key* of a structure (its source: file, file:line,
file[k] or file#frame) is unique per input item; the keys in the shards are the record of what is
finished. A rerun reads that record, skips finished keys and deletes temporary files left by a
killed run, so rows are never duplicated or lost: everything not yet in a shard is simply redone.
A run holds an exclusive lock on its directory (``.lock``), so a second run on the same directory
stops at once with a message instead of writing the same structures twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.prediction.schema import (
    DOS,
    DOS_STD,
    FAILURE_COLUMNS,
    STRUCTURE_COLUMNS,
    Failure,
    Row,
    arrow_type,
    plain_value,
)
from crystaldos.safe_io import (
    TMP_SUFFIX,
    DirectoryLock,
    OutputError,
    atomic_target,
    atomic_write_text,
)
from crystaldos.structures.crystal import Crystal

META_FILE = "screen.json"
ROW_PREFIX = "rows-"
FAILURE_PREFIX = "failures-"


class ScreenStoreError(CrystalDosError):
    """A run directory that cannot be resumed (other settings, unreadable shard)."""


def _atomic_write_table(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    with atomic_target(path) as tmp:
        pq.write_table(table, tmp)


class ScreenStore:
    """Rows and failures of one screening run in ``directory`` (see the module docstring).

    ``meta`` describes the run; it is written on first use and must equal the stored one on
    resume. ``columns`` maps every column but the DOS to ``str``/``int``/``float``/``bool``
    (the pipeline's columns); rows also have ``dos`` (list of float32).
    """

    def __init__(self, directory: str | Path, meta: Mapping[str, Any],
                 columns: Mapping[str, str], spread: bool = False) -> None:
        self.directory = Path(directory)
        self.spread = spread  # rows carry DOS_STD (ensembles)
        try:
            self.lock = DirectoryLock(self.directory)  # one writer per run directory
        except OutputError as err:
            raise ScreenStoreError(str(err)) from None
        try:
            self._open(meta, columns)
        except BaseException:
            self.lock.release()
            raise

    def _open(self, meta: Mapping[str, Any], columns: Mapping[str, str]) -> None:
        self.columns = dict(columns)
        meta_path = self.directory / META_FILE
        meta = json.loads(json.dumps(dict(meta)))  # plain JSON types, comparable after reload
        if meta_path.exists():
            try:
                stored = json.loads(meta_path.read_text())
            except json.JSONDecodeError as err:
                raise ScreenStoreError(f"{meta_path}: unreadable run description: {err}") from None
            if stored != meta:
                changed = sorted(k for k in set(stored) | set(meta) if stored.get(k) != meta.get(k))
                raise ScreenStoreError(
                    f"{self.directory}: holds a run with other settings ({', '.join(changed)} "
                    "differ); use a new output directory or the same settings to resume")
        else:
            atomic_write_text(meta_path, json.dumps(meta, indent=1) + "\n")
        self.meta = meta
        for leftover in self.directory.glob(f".*{TMP_SUFFIX}"):  # safe: we hold the lock
            leftover.unlink()
        self._next = 1 + max((int(p.stem.split("-")[1]) for p in self._all_shards()),
                             default=-1)
        self._rows: list[dict[str, Any]] = []
        self._failures: list[dict[str, Any]] = []

    def _all_shards(self) -> list[Path]:
        return shard_paths(self.directory, "rows") + shard_paths(self.directory, "failures")

    def finished_keys(self) -> set[str]:
        """Keys of every structure already written (rows and failures)."""
        import pyarrow.parquet as pq

        keys: set[str] = set()
        for path in self._all_shards():
            try:
                keys.update(pq.read_table(path, columns=["key"]).column("key").to_pylist())
            except Exception as err:
                raise ScreenStoreError(f"{path}: unreadable shard ({type(err).__name__}: {err}); "
                                       "move it away to recompute its structures") from None
        return keys

    def close(self) -> None:
        """Commit what is pending and let another run use the directory."""
        try:
            self.flush()
        finally:
            self.lock.release()

    @property
    def pending(self) -> int:
        return len(self._rows) + len(self._failures)

    def add_row(self, row: Row) -> None:
        """Queue a row; its ``crystal`` (required) is stored beside it."""
        crystal = row.crystal
        if crystal is None:
            raise ValueError(f"{row.key}: a screening row needs its structure")
        extra = {} if row.spread is None else {DOS_STD: row.spread.values.astype(np.float32)}
        self._rows.append({**row.values, DOS: np.asarray(row.dos, dtype=np.float32), **extra,
                           "lattice": crystal.lattice.reshape(-1).tolist(),
                           "species": list(crystal.species),
                           "frac_coords": crystal.frac_coords.reshape(-1).tolist()})

    def add_failure(self, failure: Failure) -> None:
        self._failures.append(failure.values())

    def _row_schema(self) -> Any:
        import pyarrow as pa

        fields = [pa.field(name, arrow_type(kind)) for name, kind in self.columns.items()]
        spread = [pa.field(DOS_STD, pa.list_(pa.float32()))] if self.spread else []
        return pa.schema([*fields, pa.field(DOS, pa.list_(pa.float32())), *spread,
                          pa.field("lattice", pa.list_(pa.float64())),
                          pa.field("species", pa.list_(pa.string())),
                          pa.field("frac_coords", pa.list_(pa.float64()))])

    def flush(self) -> None:
        """Commit the pending rows and failures as new shards (atomically)."""
        import pyarrow as pa

        if self._rows:
            schema = self._row_schema()
            data = {f.name: [_plain(r.get(f.name)) for r in self._rows] for f in schema}
            table = pa.Table.from_pydict(data, schema=schema)
            _atomic_write_table(table, self.directory / f"{ROW_PREFIX}{self._next:05d}.parquet")
            self._next += 1
            self._rows = []
        if self._failures:
            table = pa.Table.from_pydict({c: [f[c] for f in self._failures]
                                          for c in FAILURE_COLUMNS})
            _atomic_write_table(table,
                                self.directory / f"{FAILURE_PREFIX}{self._next:05d}.parquet")
            self._next += 1
            self._failures = []


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):  # the DOS
        return value.astype(np.float32).tolist()
    return plain_value(value)


def shard_paths(directory: str | Path, kind: str = "rows") -> list[Path]:
    """The committed shards of a run: ``kind`` is ``rows`` or ``failures``."""
    prefix = {"rows": ROW_PREFIX, "failures": FAILURE_PREFIX}[kind]
    return sorted(Path(directory).glob(f"{prefix}*.parquet"))


def read_meta(directory: str | Path) -> dict[str, Any]:
    """The run description (``screen.json``) of a screening output directory."""
    path = Path(directory) / META_FILE
    if not path.is_file():
        raise ScreenStoreError(f"{directory}: not a screening output (no {META_FILE})")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ScreenStoreError(f"{path}: unreadable run description: {err}") from None


def _row_columns(path: Path, columns: Sequence[str] | None) -> list[str]:
    """``columns``, or every column of a row shard but the stored structure."""
    if columns:
        return list(columns)
    import pyarrow.parquet as pq

    return [n for n in pq.read_schema(path).names if n not in STRUCTURE_COLUMNS]


def read_table(directory: str | Path, kind: str = "rows", columns: Sequence[str] | None = None):
    """All committed shards of a run as one pyarrow Table (empty when there are none); rows
    come without their structure columns unless ``columns`` names them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    read_meta(directory)  # refuse anything that is not a screening output
    paths = shard_paths(directory, kind)
    if not paths:
        names = list(columns or (FAILURE_COLUMNS if kind == "failures" else ("key", "id")))
        return pa.table({c: pa.array([], pa.string()) for c in names})
    return pa.concat_tables([pq.read_table(p, columns=_row_columns(p, columns)
                                           if kind == "rows" else columns) for p in paths])


def iter_rows(directory: str | Path, columns: Sequence[str] | None = None,
              ) -> Iterator[dict[str, Any]]:
    """Rows of a run one shard at a time (memory bounded by one shard), without their structure
    columns unless ``columns`` names them."""
    import pyarrow.parquet as pq

    for path in shard_paths(directory, "rows"):
        yield from pq.read_table(path, columns=_row_columns(path, columns)).to_pylist()


def read_shortlist(directory: str | Path, keys: Sequence[str],
                   ) -> dict[str, tuple[dict[str, Any], Crystal | None]]:
    """``{key: (row, structure)}`` for each of ``keys`` found in the run, each shard read once:
    the row without its structure columns, and the structure as it was screened (None in a
    shard written before rows carried it)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from crystaldos.structures.readers import from_arrays

    wanted = pa.array(list(keys), pa.string())
    found: dict[str, tuple[dict[str, Any], Crystal | None]] = {}
    for path in shard_paths(directory, "rows"):
        table = pq.read_table(path)
        for row in table.filter(pc.is_in(table["key"], value_set=wanted)).to_pylist():
            structure = {c: row.pop(c) for c in STRUCTURE_COLUMNS if c in row}
            crystal = None if len(structure) < len(STRUCTURE_COLUMNS) else from_arrays(
                np.reshape(structure["lattice"], (3, 3)), structure["species"],
                frac_coords=np.reshape(structure["frac_coords"], (-1, 3)), id=row["id"],
                source=row["key"], validate=False)
            found[row["key"]] = (row, crystal)
    return found
