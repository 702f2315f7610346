"""Expand command-line inputs (files, directories, globs) into a stream of crystals and failures.

Batch jobs use :func:`iter_inputs`: a bad file or frame becomes a :class:`StructureFailure` in the
stream and reading carries on; nothing is raised for per-structure problems.
"""

from __future__ import annotations

import glob
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from crystaldos.errors import StructureError
from crystaldos.structures.crystal import Crystal
from crystaldos.structures.readers import JSON_SUFFIXES, JSONL_SUFFIXES, iter_file, open_text

STRUCTURE_PATTERNS = ("*.cif", "*.vasp", "*.poscar", "POSCAR*", "CONTCAR*", "*.xyz", "*.extxyz",
                      "*.json", "*.jsonl", "*.jsonl.gz", "*.json.gz")


@dataclass(frozen=True)
class StructureFailure:
    """A structure that could not be used: where it came from and the one-line reason."""

    source: str
    reason: str

    @classmethod
    def from_error(cls, err: StructureError) -> StructureFailure:
        return cls(source=err.source, reason=err.problem)

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


def expand_paths(inputs: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, structure files inside directories (sorted), and glob matches."""
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            found = sorted({p for pat in STRUCTURE_PATTERNS for p in path.glob(pat) if p.is_file()})
            yield from found
        elif not path.exists() and glob.has_magic(text):
            yield from (Path(p) for p in sorted(glob.glob(text, recursive=True)))
        else:
            yield path


def iter_inputs(inputs: Iterable[str | Path], *,
                validate: bool = True) -> Iterator[Crystal | StructureFailure]:
    """Yield a Crystal for every readable structure and a StructureFailure for every bad one."""
    for path in expand_paths(inputs):
        try:
            for item in iter_file(path, validate=validate):
                if isinstance(item, StructureError):
                    yield StructureFailure.from_error(item)
                else:
                    yield item
        except StructureError as err:
            yield StructureFailure.from_error(err)


def _count_xyz_frames(path: Path) -> int:
    """Frames of an (ext)xyz file, by jumping over each frame's atom lines."""
    frames = 0
    with open_text(path) as handle:
        for line in handle:
            text = line.strip()
            if not text:
                continue
            n_atoms = int(text)
            for _ in range(n_atoms + 1):
                next(handle)
            frames += 1
    return frames


def count_structures(inputs: Iterable[str | Path]) -> int | None:
    """How many structures (frames, records) the inputs hold, for progress bars; cheap except
    for JSON lists, which are parsed. None when some file cannot be counted."""
    total = 0
    try:
        for path in expand_paths(inputs):
            lower = path.name.lower()
            if lower.endswith(JSONL_SUFFIXES):
                with open_text(path) as handle:
                    total += sum(1 for line in handle if line.strip())
            elif lower.endswith(JSON_SUFFIXES):
                with open_text(path) as handle:
                    data = json.load(handle)
                total += len(data) if isinstance(data, list) else 1
            elif lower.endswith((".xyz", ".extxyz", ".xyz.gz", ".extxyz.gz")):
                total += _count_xyz_frames(path)
            else:
                total += 1
    except (OSError, ValueError, StopIteration, UnicodeDecodeError):
        return None
    return total


_ITEM_SUFFIX = re.compile(r"(#\d+|\[\d+\]|:\d+)$")


def source_file(key: str) -> str:
    """The file of a source key: ``file``, ``file:line`` (JSON lines), ``file[k]`` (JSON list) or
    ``file#frame`` (multi-frame files), as readers set ``Crystal.source``."""
    return _ITEM_SUFFIX.sub("", key)


def structure_stream(inputs: Iterable[str | Path] | Iterable[Crystal | StructureFailure],
                     ) -> Iterable[Crystal | StructureFailure]:
    """The one reading of inputs for every command: a list of paths (files, folders, globs) is
    read lazily with :func:`iter_inputs`; any other iterable is taken as crystals and failures
    already made, and streamed as it comes."""
    if isinstance(inputs, list | tuple) and all(isinstance(x, str | Path) for x in inputs):
        return iter_inputs(inputs)
    if isinstance(inputs, str | Path):
        return iter_inputs([inputs])
    return inputs  # type: ignore[return-value]
