"""Spectrum autoencoder and AE-ALIGNN: the GNN predicts a small latent, a frozen decoder expands it.

Following the latent-target idea of the ALIGNN eDOS work (Kaundinya et al., 2022): a dense
autoencoder (ReLU layers, sigmoid output) compresses spectra to 8-20 numbers; the graph network
is then trained to predict those numbers, and the decoder (frozen) turns them back into a DOS.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import torch
from torch import nn

from crystaldos.models.alignn import ALIGNNDOS

LATENT_SIZES = (8, 12, 16, 20)


class SpectrumAutoencoder(nn.Module):
    """Dense autoencoder on spectra of ``n_points`` values in [0, ``scale``].

    encode: (B, n_points) -> (B, latent); decode: (B, latent) -> (B, n_points) in (0, scale).
    ``scale`` is 1 for max-normalized spectra; for other normalizations (eDOS per valence
    electron) the trainer sets it a little above the largest training value.
    """

    def __init__(self, n_points: int, latent: int = 12,
                 hidden: tuple[int, ...] | list[int] = (128, 64), scale: float = 1.0,
                 standardize: bool = False) -> None:
        super().__init__()
        widths = [n_points, *hidden]
        enc: list[nn.Module] = []
        for a, b in pairwise(widths):
            enc += [nn.Linear(a, b), nn.ReLU()]
        enc.append(nn.Linear(widths[-1], latent))
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = []
        back = [latent, *reversed(hidden)]
        for a, b in pairwise(back):
            dec += [nn.Linear(a, b), nn.ReLU()]
        dec += [nn.Linear(back[-1], n_points), nn.Sigmoid()]
        self.decoder = nn.Sequential(*dec)
        if not scale > 0:
            raise ValueError("scale must be positive")
        self.n_points, self.latent, self.scale = n_points, latent, float(scale)
        self.standardize = bool(standardize)
        if self.standardize:  # per-point input statistics, set by set_statistics
            self.register_buffer("input_mean", torch.zeros(n_points))
            self.register_buffer("input_std", torch.ones(n_points))

    @torch.no_grad()
    def set_statistics(self, spectra: torch.Tensor) -> None:
        """Fit the input standardization (when enabled) to (n, n_points) training spectra and
        start the decoder at their mean spectrum. Without the latter, MSE training on spiky
        spectra that are mostly near zero often collapses to a zero output, where the sigmoid
        no longer passes gradients (seen on the xTB eDOS set at latent 12 and 16)."""
        mean = spectra.mean(0)
        if self.standardize:
            self.input_mean.copy_(mean)
            self.input_std.copy_(spectra.std(0) + 1e-3 * float(spectra.abs().max()))
        p = (mean / self.scale).clamp(1e-4, 1 - 1e-4)
        self.decoder[-2].bias.copy_(torch.log(p) - torch.log1p(-p))

    def encode(self, y: torch.Tensor) -> torch.Tensor:
        if self.standardize:
            return self.encoder((y - self.input_mean) / self.input_std)
        return self.encoder(y / self.scale)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z) * self.scale

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(y))


class AELatentALIGNN(nn.Module):
    """ALIGNN that predicts an autoencoder latent; the frozen decoder gives the (B, n_points) DOS.

    Args:
        gnn: init arguments of :class:`ALIGNNDOS` (its ``n_out`` is set to the latent size and its
            output activation to ``none``).
        autoencoder: init arguments of :class:`SpectrumAutoencoder`.
    """

    def __init__(self, gnn: dict[str, Any], autoencoder: dict[str, Any]) -> None:
        super().__init__()
        self.autoencoder = SpectrumAutoencoder(**autoencoder)
        gnn = {**gnn, "n_out": self.autoencoder.latent, "output_activation": "none"}
        self.gnn = ALIGNNDOS(**gnn)
        self.freeze_decoder()

    def freeze_decoder(self) -> None:
        """Stop gradients to the whole autoencoder (it is trained beforehand on spectra)."""
        for p in self.autoencoder.parameters():
            p.requires_grad_(False)

    def latent(self, data: Any) -> torch.Tensor:
        """(B, latent) predicted latent vectors."""
        return self.gnn(data)

    def forward(self, data: Any) -> torch.Tensor:
        return self.autoencoder.decode(self.latent(data))
