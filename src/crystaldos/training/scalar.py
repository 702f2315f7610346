"""Direct regression of scalar properties with the same graph networks (a baseline for the
DOS-mediated route: predict Cv(300 K) and S(300 K) straight from the structure)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from torch_geometric.loader import DataLoader

from crystaldos.datasets.base import DOSRecord
from crystaldos.graphs.crystal_graph import CrystalGraph, GraphSettings
from crystaldos.models.presets import get_preset
from crystaldos.models.saving import build_model
from crystaldos.prediction.engine import predict_graphs
from crystaldos.training.data import graphs_with_targets
from crystaldos.training.module import SpectrumModule


@dataclass
class ScalarRegressor:
    """A trained graph network with the standardization of its k targets."""

    model: torch.nn.Module
    graph_settings: GraphSettings
    mean: np.ndarray
    std: np.ndarray
    names: tuple[str, ...]
    epochs_run: int

    def predict_graphs(self, graphs: Sequence[CrystalGraph]) -> np.ndarray:
        """(n, k) predictions in the targets' own units."""
        return predict_graphs(self.model, graphs) * self.std + self.mean


def train_scalar_regressor(train: Sequence[DOSRecord], val: Sequence[DOSRecord],
                           targets: dict[str, np.ndarray], names: Sequence[str], *,
                           preset: str = "fast", epochs: int = 100, patience: int = 30,
                           loss: str = "mae", seed: int = 0, progress: bool = False,
                           workdir: str | Path | None = None,
                           **model_overrides: Any) -> ScalarRegressor:
    """Fit an ALIGNN-style network (``preset`` size, linear output) to ``targets[id]`` (k
    values per material), standardized on the training split; the checkpoint with the lowest
    validation MAE (standardized units) is kept."""
    L.seed_everything(seed, workers=True, verbose=False)
    spec = get_preset(preset)
    settings = GraphSettings.from_dict(spec["graph"])
    y_train = np.stack([targets[r.id] for r in train]).astype(np.float64)
    mean, std = y_train.mean(axis=0), y_train.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    scaled = {i: ((np.asarray(v) - mean) / std).astype(np.float32) for i, v in targets.items()}
    graphs = {name: graphs_with_targets(part, settings, targets=scaled)
              for name, part in (("train", train), ("val", val))}
    n_features = settings.feature_width
    args = {**spec["model"], **model_overrides, "atom_features": n_features,
            "n_out": len(names), "cutoff": settings.cutoff, "output_activation": "none"}
    model = build_model("ALIGNNDOS", args)
    hp = spec["training"]
    module = SpectrumModule(model, loss=loss, lr=hp["lr"], weight_decay=hp["weight_decay"],
                            scheduler="onecycle", epochs=epochs)
    bs = int(hp["batch_size"])
    train_loader = DataLoader(graphs["train"], batch_size=bs, shuffle=True,
                              drop_last=len(graphs["train"]) > bs)
    val_loader = DataLoader(graphs["val"], batch_size=max(bs, 64))
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        checkpoint = ModelCheckpoint(dirpath=tmp, monitor="val_mae", mode="min", save_top_k=1,
                                     filename="best")
        trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False,
                            callbacks=[checkpoint, EarlyStopping("val_mae", patience=patience)],
                            enable_progress_bar=progress, enable_model_summary=False,
                            enable_checkpointing=True, default_root_dir=tmp,
                            log_every_n_steps=max(1, min(10, len(train_loader))))
        trainer.fit(module, train_loader, val_loader)
        state = torch.load(checkpoint.best_model_path, map_location="cpu",
                           weights_only=True)["state_dict"]
    module.load_state_dict(state)
    return ScalarRegressor(module.model.eval(), settings, mean, std, tuple(names),
                           int(trainer.current_epoch))
