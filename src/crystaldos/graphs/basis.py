"""Radial-basis expansions of bond lengths and bond-angle cosines (torch modules)."""

from __future__ import annotations

import torch
from torch import nn


class RBFExpansion(nn.Module):
    """Gaussians ``exp(-gamma (x - c_k)^2)`` on ``bins`` evenly spaced centres in [vmin, vmax].

    ``gamma = 1 / spacing**2`` unless given (spacing = distance between neighbouring centres).
    Input (...,) -> output (..., bins). Defaults: distances 0-8 Å with 80 centres; use
    ``RBFExpansion(-1, 1, 40)`` for angle cosines.
    """

    def __init__(self, vmin: float = 0.0, vmax: float = 8.0, bins: int = 80,
                 gamma: float | None = None) -> None:
        super().__init__()
        if bins < 2 or vmax <= vmin:
            raise ValueError("need vmax > vmin and at least 2 bins")
        centers = torch.linspace(vmin, vmax, bins)
        self.register_buffer("centers", centers)
        spacing = float(centers[1] - centers[0])
        self.gamma = float(gamma) if gamma is not None else 1.0 / spacing**2
        self.vmin, self.vmax, self.bins = float(vmin), float(vmax), int(bins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(-self.gamma * (x.unsqueeze(-1) - self.centers) ** 2)

    def extra_repr(self) -> str:
        return f"vmin={self.vmin}, vmax={self.vmax}, bins={self.bins}, gamma={self.gamma:.4g}"


def distance_basis(bins: int = 80, cutoff: float = 8.0) -> RBFExpansion:
    """The bond-length basis of the ALIGNN family: 80 Gaussians on 0-8 Å."""
    return RBFExpansion(0.0, cutoff, bins)


def angle_basis(bins: int = 40) -> RBFExpansion:
    """The bond-angle basis: 40 Gaussians on cos(theta) in [-1, 1]."""
    return RBFExpansion(-1.0, 1.0, bins)
