"""Inference: the pipeline from structures to rows, and the files rows are written to.

Names are imported on first use, so that reading or writing rows (``rank``, ``report``,
``properties``) never pays for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "predict_graphs": "engine", "predict_structures": "engine",
    "PredictionPipeline": "pipeline", "BASE_COLUMNS": "schema", "Failure": "schema",
    "Row": "schema", "OUTPUT_FORMATS": "writers", "open_writer": "writers",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'crystaldos.prediction' has no attribute {name!r}")
    return getattr(importlib.import_module(f"crystaldos.prediction.{_WHERE[name]}"), name)
