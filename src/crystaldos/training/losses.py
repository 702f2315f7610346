"""Spectrum losses on (B, n) predictions and targets on a uniform grid.

``mse`` and ``mae`` compare values point by point. ``kl`` and ``wasserstein`` compare shapes: both
spectra are first made non-negative and scaled to unit area, then KL(target || prediction), or
the 1-D Wasserstein-1 distance (L1 distance between cumulative distributions, in grid steps).
``gkl`` is the generalized KL divergence of the raw values, which also sees the total.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

_EPS = 1e-8


def _unit_area(y: torch.Tensor) -> torch.Tensor:
    y = y.clamp(min=0) + _EPS
    return y / y.sum(dim=-1, keepdim=True)


def mse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.mean((pred - target) ** 2)


def mae_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.mean(torch.abs(pred - target))


def kl_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over spectra of KL(target || prediction), both as unit-area distributions."""
    p, q = _unit_area(target), _unit_area(pred)
    return torch.mean(torch.sum(p * (torch.log(p) - torch.log(q)), dim=-1))


def generalized_kl_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over spectra of the generalized KL (Bregman) divergence of the raw values,
    sum_k [t log(t / p) - t + p]; unlike ``kl`` it also penalizes a wrong total."""
    t = target.clamp(min=0) + _EPS
    p = pred.clamp(min=0) + _EPS
    return torch.mean(torch.sum(t * (torch.log(t) - torch.log(p)) - t + p, dim=-1))


def wasserstein_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over spectra of the 1-D Wasserstein-1 distance, in units of the grid step."""
    cdf_p = torch.cumsum(_unit_area(pred), dim=-1)
    cdf_t = torch.cumsum(_unit_area(target), dim=-1)
    return torch.mean(torch.sum(torch.abs(cdf_p - cdf_t), dim=-1))


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": mse_loss,
    "mae": mae_loss,
    "kl": kl_loss,
    "gkl": generalized_kl_loss,
    "wasserstein": wasserstein_loss,
}


def get_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose from {sorted(LOSSES)}")
    return LOSSES[name]
