"""Inference: the pipeline from structures to rows, and the files rows are written to."""

from crystaldos.prediction.engine import predict_graphs, predict_structures
from crystaldos.prediction.pipeline import PredictionPipeline
from crystaldos.prediction.schema import BASE_COLUMNS, Failure, Row
from crystaldos.prediction.writers import OUTPUT_FORMATS, open_writer

__all__ = ["BASE_COLUMNS", "OUTPUT_FORMATS", "Failure", "PredictionPipeline", "Row",
           "open_writer", "predict_graphs", "predict_structures"]
