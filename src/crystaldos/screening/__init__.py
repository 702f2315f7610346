"""High-throughput screening: resumable Parquet output, shortlists and reports.

Names are imported on first use, so that ``rank`` and ``report`` never import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ScreenSummary": "engine", "screen": "engine", "ranked": "report",
    "write_report": "report", "ScreenStore": "store", "ScreenStoreError": "store",
    "iter_rows": "store", "read_table": "store",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'crystaldos.screening' has no attribute {name!r}")
    return getattr(importlib.import_module(f"crystaldos.screening.{_WHERE[name]}"), name)
