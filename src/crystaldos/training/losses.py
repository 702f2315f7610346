"""Spectrum losses on (B, n) predictions and targets on a uniform grid.

``mse`` and ``mae`` compare values point by point. ``kl`` and ``wasserstein`` compare shapes: both
spectra are first made non-negative and scaled to unit area, then KL(target || prediction), or
the 1-D Wasserstein-1 distance (L1 distance between cumulative distributions, in grid steps).
``gkl`` is the generalized KL divergence of the raw values, which also sees the total.
:func:`cdf_distance` is the same Wasserstein-1 distance per spectrum as a fraction of the span,
inside a mask: the ``w1_weight`` term that any training run can add to its loss.
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


def cdf_distance(pred: torch.Tensor, target: torch.Tensor,
                 mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B,) Wasserstein-1 distance between each prediction and target of (B, n), both made
    non-negative and scaled to unit area inside ``mask`` (B, n) of 0/1 (default: everywhere),
    as a fraction of the masked span (0 same spectrum, 1 all weight at opposite ends). It sees
    where the weight of a spectrum sits, which a bin-by-bin error of max-normalized spectra
    barely does for a small band far from the main peak."""
    if mask is None:
        mask = torch.ones_like(target)
    p = (pred.clamp(min=0) + _EPS) * mask
    t = (target.clamp(min=0) + _EPS) * mask
    p = p / p.sum(dim=-1, keepdim=True)
    t = t / t.sum(dim=-1, keepdim=True)
    gap = torch.abs(torch.cumsum(p, dim=-1) - torch.cumsum(t, dim=-1))
    return gap.sum(dim=-1) / mask.sum(dim=-1).clamp(min=1.0)


def wasserstein_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over spectra of the 1-D Wasserstein-1 distance, in units of the grid step."""
    return torch.mean(cdf_distance(pred, target) * pred.shape[-1])


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
