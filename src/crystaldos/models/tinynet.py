"""TinyNet: one small dense network per element on the moments embedding (Behler-Parrinello
style), with two linear heads: the atom's local DOS on a grid and its force vector.

Inputs are standardized per element with training statistics kept as buffers; outputs are in
physical units (states/eV per atom, eV/Å). Forces are predicted directly, not as the gradient
of an energy, so they are fast but not conservative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from crystaldos.embeddings.moments import MomentsEmbedding
from crystaldos.errors import DatasetError

HIDDEN_ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "silu": nn.SiLU,
                                                  "relu": nn.ReLU}


class TinyNet(nn.Module):
    """Per-element trunks ``n_inputs -> hidden[0] -> hidden[1] ...`` (``activation``), each with
    a local-DOS head (``n_dos`` values) and a force head (3 values).

    forward(x (A, n_inputs) float32, numbers (A,) int64) -> (ldos (A, n_dos), forces (A, 3)).
    """

    def __init__(self, species: Sequence[int], n_inputs: int, n_dos: int,
                 hidden: Sequence[int] = (16, 32), activation: str = "tanh") -> None:
        super().__init__()
        if activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(HIDDEN_ACTIVATIONS)}")
        self.species = tuple(int(z) for z in species)
        self.config = {"species": list(self.species), "n_inputs": int(n_inputs),
                       "n_dos": int(n_dos), "hidden": [int(h) for h in hidden],
                       "activation": activation}
        sizes = [int(n_inputs), *self.config["hidden"]]
        self.trunks = nn.ModuleList()
        for _ in self.species:
            layers: list[nn.Module] = []
            for a, b in pairwise(sizes):
                layers += [nn.Linear(a, b), HIDDEN_ACTIVATIONS[activation]()]
            self.trunks.append(nn.Sequential(*layers))
        self.dos_heads = nn.ModuleList(nn.Linear(sizes[-1], n_dos) for _ in self.species)
        self.force_heads = nn.ModuleList(nn.Linear(sizes[-1], 3) for _ in self.species)
        s = len(self.species)
        self.register_buffer("input_mean", torch.zeros(s, n_inputs))
        self.register_buffer("input_std", torch.ones(s, n_inputs))
        self.register_buffer("dos_mean", torch.zeros(s, n_dos))
        self.register_buffer("dos_scale", torch.ones(()))
        self.register_buffer("force_scale", torch.ones(()))
        lookup = torch.full((119,), -1, dtype=torch.long)
        lookup[torch.tensor(self.species)] = torch.arange(s)
        self.register_buffer("lookup", lookup)

    def set_statistics(self, x: torch.Tensor, numbers: torch.Tensor, dos: torch.Tensor,
                       forces: torch.Tensor) -> None:
        """Fix the input standardization and output scales from training atoms."""
        kind = self.lookup[numbers]
        for k in range(len(self.species)):
            rows = x[kind == k]
            if rows.shape[0] == 0:
                raise ValueError(f"no training atom of element Z={self.species[k]}")
            self.input_mean[k] = rows.mean(0)
            std = rows.std(0, unbiased=False)
            self.input_std[k] = torch.where(std > 1e-8, std, torch.ones_like(std))
            self.dos_mean[k] = dos[kind == k].mean(0)
        self.dos_scale.fill_(float((dos - self.dos_mean[kind]).std()))
        self.force_scale.fill_(float(forces.std()))

    def forward(self, x: torch.Tensor, numbers: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        kind = self.lookup[numbers]
        if bool((kind < 0).any()):
            raise ValueError(f"elements outside {self.species}")
        ldos = x.new_zeros(x.shape[0], self.config["n_dos"])
        forces = x.new_zeros(x.shape[0], 3)
        for k in range(len(self.species)):
            mask = kind == k
            if not bool(mask.any()):
                continue
            h = self.trunks[k]((x[mask] - self.input_mean[k]) / self.input_std[k])
            ldos[mask] = self.dos_heads[k](h) * self.dos_scale + self.dos_mean[k]
            forces[mask] = self.force_heads[k](h) * self.force_scale
        return ldos, forces


@dataclass(frozen=True)
class TinyNetBundle:
    """A trained TinyNet with the embedding it reads and the grid of its local DOS (eV)."""

    model: TinyNet
    embedding: MomentsEmbedding
    grid: np.ndarray
    metadata: dict[str, Any]


def save_tinynet(path: str | Path, model: TinyNet, embedding: MomentsEmbedding,
                 grid: np.ndarray, metadata: dict[str, Any] | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": "crystaldos-tinynet-1", "config": model.config,
                "state_dict": model.state_dict(), "embedding": embedding.config(),
                "grid": [float(v) for v in grid], "metadata": metadata or {}}, path)
    return path


def load_tinynet(path: str | Path) -> TinyNetBundle:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(str(path), "TinyNet file not found")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds on a file that is not a checkpoint
        raise DatasetError(str(path), f"not a crystaldos TinyNet file ({err})") from None
    try:
        if not isinstance(blob, dict) or blob.get("format") != "crystaldos-tinynet-1":
            raise KeyError("format")
        model = TinyNet(**blob["config"])
        model.load_state_dict(blob["state_dict"])
    except (KeyError, RuntimeError, AttributeError, TypeError) as err:
        raise DatasetError(str(path), f"not a crystaldos TinyNet file ({err})") from None
    model.eval()
    return TinyNetBundle(model, MomentsEmbedding(**blob["embedding"]),
                         np.asarray(blob["grid"]), dict(blob["metadata"]))
