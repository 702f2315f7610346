"""Train and evaluate TinyNet on labelled frames (per-atom local DOS and forces)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from crystaldos.embeddings.moments import MomentsEmbedding
from crystaldos.models.tinynet import TinyNet
from crystaldos.reference.frames import FrameSet


@dataclass(frozen=True)
class AtomData:
    """Atoms of many frames, flattened: x (A, E) float32 embedding, numbers (A,), ldos (A, G)
    states/eV, forces (A, 3) eV/Å."""

    x: torch.Tensor
    numbers: torch.Tensor
    ldos: torch.Tensor
    forces: torch.Tensor

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def columns(self, index: np.ndarray) -> AtomData:
        return AtomData(self.x[:, torch.as_tensor(index)], self.numbers, self.ldos, self.forces)


def embed_frames(frames: FrameSet, embedding: MomentsEmbedding,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """(F, N, embedding.size) embedding of every atom of every frame."""
    out = np.empty((len(frames), frames.n_atoms, embedding.size))
    for f in range(len(frames)):
        out[f] = embedding(frames.crystal(f))
        if progress is not None:
            progress(f + 1, len(frames))
    return out


def atom_data(frames: FrameSet, embedded: np.ndarray) -> AtomData:
    """Flatten frames x atoms; ``embedded`` from :func:`embed_frames` on the same frames."""
    f, n = len(frames), frames.n_atoms
    return AtomData(torch.as_tensor(embedded.reshape(f * n, -1), dtype=torch.float32),
                    torch.as_tensor(np.tile(frames.numbers, f), dtype=torch.long),
                    torch.as_tensor(frames.ldos.reshape(f * n, -1), dtype=torch.float32),
                    torch.as_tensor(frames.forces.reshape(f * n, 3), dtype=torch.float32))


@dataclass(frozen=True)
class TinyNetErrors:
    """ldos_mae: states/eV per atom, over atoms and grid points; force_rmse / force_mae: eV/Å
    over Cartesian components."""

    ldos_mae: float
    force_rmse: float
    force_mae: float

    def as_dict(self) -> dict[str, float]:
        return {"ldos_mae": self.ldos_mae, "force_rmse": self.force_rmse,
                "force_mae": self.force_mae}


def errors_of(ldos: torch.Tensor, forces: torch.Tensor, data: AtomData) -> TinyNetErrors:
    """Errors of predictions (local DOS clipped at 0, as every prediction is) against ``data``."""
    ldos = ldos.clamp_min(0)
    diff = forces - data.forces
    return TinyNetErrors(float((ldos - data.ldos).abs().mean()), float(diff.pow(2).mean().sqrt()),
                         float(diff.abs().mean()))


def evaluate(model: TinyNet, data: AtomData) -> TinyNetErrors:
    model.eval()
    with torch.no_grad():
        ldos, forces = model(data.x, data.numbers)
    return errors_of(ldos, forces, data)


def element_mean_baseline(train: AtomData, test: AtomData) -> TinyNetErrors:
    """Predict each atom's element mean local DOS and force from the training atoms. For a
    per-atom target this is both the mean-spectrum and the composition-only baseline: every atom
    of an element has the same composition."""
    ldos = torch.zeros_like(test.ldos)
    forces = torch.zeros_like(test.forces)
    for z in torch.unique(test.numbers):
        rows = train.numbers == z
        ldos[test.numbers == z] = train.ldos[rows].mean(0)
        forces[test.numbers == z] = train.forces[rows].mean(0)
    return errors_of(ldos, forces, test)


def train_tinynet(train: AtomData, val: AtomData, species: tuple[int, ...], *,
                  hidden: tuple[int, ...] = (16, 32), activation: str = "tanh",
                  epochs: int = 300, batch_size: int = 256, learning_rate: float = 3e-3,
                  force_weight: float = 1.0, patience: int = 40, seed: int = 0,
                  ) -> tuple[TinyNet, list[dict[str, float]]]:
    """Adam on MSE(standardized local DOS) + force_weight x MSE(standardized forces); keeps the
    epoch with the lowest validation loss. Returns (model, per-epoch history)."""
    torch.manual_seed(seed)
    model = TinyNet(species, train.x.shape[1], train.ldos.shape[1], hidden, activation)
    model.set_statistics(train.x, train.numbers, train.ldos, train.forces)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=10)

    def loss_of(data: AtomData, index: torch.Tensor | slice) -> torch.Tensor:
        ldos, forces = model(data.x[index], data.numbers[index])
        dos_term = ((ldos - data.ldos[index]) / model.dos_scale).pow(2).mean()
        force_term = ((forces - data.forces[index]) / model.force_scale).pow(2).mean()
        return dos_term + force_weight * force_term

    generator = torch.Generator().manual_seed(seed)
    best, best_state, waited, history = float("inf"), None, 0, []
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train), generator=generator)
        total = 0.0
        for start in range(0, len(train), batch_size):
            index = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = loss_of(train, index)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * index.numel()
        model.eval()
        with torch.no_grad():
            val_loss = float(loss_of(val, slice(None)))
        scheduler.step(val_loss)
        history.append({"epoch": epoch, "train_loss": total / len(train), "val_loss": val_loss})
        if val_loss < best:
            best, best_state, waited = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited >= patience:
                break
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    return model, history
