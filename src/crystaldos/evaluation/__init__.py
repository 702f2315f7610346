"""Evaluation: metrics defined per spectrum, baselines."""

from crystaldos.evaluation.baselines import MeanSpectrumBaseline
from crystaldos.evaluation.metrics import (
    mae,
    mae_per_spectrum,
    mae_to_mad,
    mse,
    mse_per_spectrum,
    r2_mean,
    r2_per_spectrum,
    r2_variance_weighted,
    relative_error,
    relative_error_per_spectrum,
    spectrum_metrics,
    wasserstein,
    wasserstein_per_spectrum,
)

__all__ = [
    "MeanSpectrumBaseline", "mae", "mae_per_spectrum", "mae_to_mad", "mse", "mse_per_spectrum",
    "r2_mean", "r2_per_spectrum", "r2_variance_weighted", "relative_error",
    "relative_error_per_spectrum", "spectrum_metrics", "wasserstein", "wasserstein_per_spectrum",
]
