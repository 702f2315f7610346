"""Resumable, append-only record files for long reference-data jobs.

A :class:`RecordShards` folder holds ``<prefix>-NNNN.jsonl`` parts of at most ``part_size``
records, one JSON object per line, each line flushed and fsync'd as it is written. A full part is
compressed to ``<prefix>-NNNN.jsonl.gz`` (atomically) and never touched again, so a folder can be
committed at any moment and extended later: a rerun reads the ids of every part (plain or gzipped),
drops a half-written last line left by a kill, and carries on where the last run stopped.
Failures go to ``failures.jsonl`` with a one-line reason and are not retried unless asked.
A record may be computed again (new settings, a fixed engine): the new line is appended and
:func:`latest_records` lets it supersede the earlier one, so nothing is ever rewritten.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crystaldos.safe_io import atomic_write_bytes

FAILURES = "failures.jsonl"


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def drop_torn_line(path: Path) -> None:
    """Cut a last line that a killed writer left without its newline."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)


def append_line(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line and make it durable before returning."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def latest_records(records: Iterator[dict[str, Any]] | list[dict[str, Any]]
                   ) -> list[dict[str, Any]]:
    """One record per id, the last written, in the order each id first appeared."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        latest[record["id"]] = record  # an existing key keeps its position
    return list(latest.values())


class RecordShards:
    """Records keyed by ``record["id"]`` in compressed parts (see the module docstring)."""

    def __init__(self, directory: str | Path, prefix: str = "records",
                 part_size: int = 500) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix, self.part_size = prefix, part_size
        for path in [*self._plain_parts(), self.directory / FAILURES]:
            drop_torn_line(path)
        self._seal_full_parts()
        self._part = self._open_part()
        self._count = sum(1 for _ in _lines(self._part)) if self._part.exists() else 0

    def _plain_parts(self) -> list[Path]:
        return sorted(self.directory.glob(f"{self.prefix}-*.jsonl"))

    def parts(self) -> list[Path]:
        """Every part, sealed (.jsonl.gz) and open (.jsonl), in order."""
        return sorted([*self.directory.glob(f"{self.prefix}-*.jsonl.gz"), *self._plain_parts()])

    def _seal(self, path: Path) -> None:
        atomic_write_bytes(path.with_name(path.name + ".gz"),
                           gzip.compress(path.read_bytes(), mtime=0))
        path.unlink()

    def _seal_full_parts(self) -> None:
        for path in self._plain_parts():
            if sum(1 for _ in _lines(path)) >= self.part_size:
                self._seal(path)

    def _open_part(self) -> Path:
        plain = self._plain_parts()
        if plain:
            return plain[-1]
        numbers = [int(p.name[len(self.prefix) + 1:].split(".")[0]) for p in self.parts()]
        return self.directory / f"{self.prefix}-{max(numbers, default=-1) + 1:04d}.jsonl"

    def records(self) -> Iterator[dict[str, Any]]:
        for path in self.parts():
            yield from _lines(path)

    def failures(self) -> list[dict[str, Any]]:
        path = self.directory / FAILURES
        return list(_lines(path)) if path.is_file() else []

    def done_ids(self, include_failures: bool = True) -> set[str]:
        ids = {r["id"] for r in self.records()}
        if include_failures:
            ids |= {r["id"] for r in self.failures()}
        return ids

    def append(self, record: dict[str, Any]) -> None:
        append_line(self._part, record)
        self._count += 1
        if self._count >= self.part_size:
            self._seal(self._part)
            self._part, self._count = self._open_part(), 0

    def append_failure(self, record: dict[str, Any]) -> None:
        append_line(self.directory / FAILURES, record)
