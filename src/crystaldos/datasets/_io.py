"""Small readers shared by the loaders: JSON lines (plain or gzipped) with file:line errors."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crystaldos.errors import DatasetError


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-empty line; DatasetError names file:line."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(str(path), "no such file")
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}:{n}", f"invalid JSON ({exc.msg})") from None
                if not isinstance(obj, dict):
                    raise DatasetError(f"{path}:{n}", "each line must be a JSON object")
                yield n, obj
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DatasetError(str(path), f"cannot be read: {exc}") from None


def read_json(path: str | Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DatasetError(str(path), "no such file") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(str(path), f"cannot be read as JSON: {exc}") from None
