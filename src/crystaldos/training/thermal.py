"""A loss term that sees what the thermodynamic properties see.

A spectrum loss (MAE on max-normalized bins) weighs every bin alike, but Cv and S weigh low
frequencies most: a small excess of weight below 100 cm^-1 barely moves the MAE and raises the
heat capacity and entropy (the DOS route came out biased high). :class:`ThermalLoss` compares
the harmonic Cv and S per atom (in units of k_B) of the predicted and target spectra at several
temperatures, computed exactly as :func:`crystaldos.physics.phonon.thermal_properties` does
(both spectra scaled to 3 modes per atom, only positive-frequency modes count), so the term is
differentiable and its value is an error in Cv/k_B and S/k_B per atom, averaged over
temperatures and the two quantities.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from crystaldos.physics.constants import HBAR, K_B, angular_frequency
from crystaldos.spectra.grid import PHONON, Grid

#: default temperatures (K): low ones weigh the acoustic region, high ones the whole spectrum.
DEFAULT_THERMAL_TEMPERATURES = (50.0, 100.0, 200.0, 300.0, 500.0, 800.0)


def mode_kernels(grid: Grid, temperatures: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """(t, n) Cv and S per mode in units of k_B for every bin centre of ``grid`` at each
    temperature; zero for bins at or below zero frequency."""
    if grid.kind != PHONON:
        raise ValueError(f"thermal loss needs a phonon grid, not a {grid.kind} one")
    cm = grid.converted("cm^-1").points
    positive = cm > 0
    energy = HBAR * angular_frequency(np.where(positive, cm, 1.0), "cm^-1")
    t = np.asarray(temperatures, dtype=np.float64)[:, None]
    if np.any(t <= 0):
        raise ValueError("thermal loss temperatures must be positive")
    x = energy[None, :] / (K_B * t)
    em, om = np.exp(-x), -np.expm1(-x)
    cv = np.where(positive, x**2 * em / om**2, 0.0)
    s = np.where(positive, x * em / om - np.log(om), 0.0)
    return cv, s


class ThermalLoss(nn.Module):
    """Mean absolute error of Cv/k_B and S/k_B per atom between predicted and target spectra
    (both (B, n) on ``grid``, any scale) at ``temperatures``."""

    def __init__(self, grid: Grid,
                 temperatures: Sequence[float] = DEFAULT_THERMAL_TEMPERATURES) -> None:
        super().__init__()
        cv, s = mode_kernels(grid, temperatures)
        self.register_buffer("kernels", torch.tensor(np.concatenate([cv, s]).T,
                                                     dtype=torch.float32))

    def per_atom(self, spectra: torch.Tensor) -> torch.Tensor:
        """(B, 2t) Cv/k_B then S/k_B per atom at each temperature."""
        y = spectra.clamp(min=0)
        modes = 3.0 * y / y.sum(dim=-1, keepdim=True).clamp(min=1e-8)
        return modes @ self.kernels

    def per_material(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B,) the error of each material, averaged over temperatures and quantities."""
        return torch.mean(torch.abs(self.per_atom(pred) - self.per_atom(target)), dim=-1)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.mean(self.per_material(pred, target))
