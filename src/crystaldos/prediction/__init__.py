"""Inference: stream structures through a saved model and write spectra to JSONL/CSV/Parquet."""

from crystaldos.prediction.engine import Prediction, predict_graphs, predict_structures
from crystaldos.prediction.writers import OUTPUT_FORMATS, open_writer

__all__ = ["OUTPUT_FORMATS", "Prediction", "open_writer", "predict_graphs", "predict_structures"]
