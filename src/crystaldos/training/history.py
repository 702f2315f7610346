"""Keep the loss history of a run across ``train --resume``.

Lightning's CSV logger deletes ``logs/metrics.csv`` when a run starts in a folder that has one, so
resuming from a checkpoint at epoch E would leave only epochs E... . Before such a run
:func:`save_earlier_epochs` copies the rows of epochs < E to ``logs/metrics-before-resume.csv``
(merged with any copy a killed earlier resume left there); after the fit
:func:`merge_history` writes earlier + new rows back to ``metrics.csv`` and drops the copy. A kill
at any point leaves every row on disk in one of the two files.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from crystaldos.safe_io import atomic_write_text

METRICS = "metrics.csv"
EARLIER = "metrics-before-resume.csv"


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    names: list[str] = []
    for row in rows:
        names += [k for k in row if k not in names]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, text.getvalue())


def _epoch(row: dict[str, str]) -> int:
    try:
        return int(float(row.get("epoch") or -1))
    except ValueError:
        return -1


def save_earlier_epochs(log_dir: str | Path, start_epoch: int) -> None:
    """Copy the logged rows of epochs before ``start_epoch`` aside (see module docstring)."""
    log_dir = Path(log_dir)
    current = _rows(log_dir / METRICS)
    seen = {_epoch(r) for r in current}
    earlier = [r for r in _rows(log_dir / EARLIER) if _epoch(r) not in seen] + current
    earlier = sorted((r for r in earlier if 0 <= _epoch(r) < start_epoch), key=_epoch)
    if earlier:
        _write(log_dir / EARLIER, earlier)


def merge_history(log_dir: str | Path) -> None:
    """Put the saved earlier rows in front of the new ones in ``metrics.csv``."""
    log_dir = Path(log_dir)
    earlier = _rows(log_dir / EARLIER)
    if not earlier:
        return
    new = _rows(log_dir / METRICS)
    first_new = min((_epoch(r) for r in new), default=1 << 30)
    _write(log_dir / METRICS, [r for r in earlier if _epoch(r) < first_new] + new)
    (log_dir / EARLIER).unlink()
