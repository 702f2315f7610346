"""LightningModule that trains any spectral model of crystaldos on (graph, spectrum) batches."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn

from crystaldos.training.losses import cdf_distance, get_loss

SCHEDULERS = ("onecycle", "cosine", "none")


class SpectrumModule(L.LightningModule):
    """Wraps ``model`` (graph batch -> (B, n) spectrum) with its loss, optimizer and schedule.

    Logs ``train_loss``, ``val_loss`` and ``val_mae`` (mean over spectra of the mean absolute
    error, the leaderboard's multi-MAE in the training normalization); checkpoints and early
    stopping watch ``val_mae`` or ``val_loss``. With ``joint_step`` (the model grid's step)
    the batches carry masks and per-set normalizations and every loss is
    :func:`crystaldos.training.joint.joint_loss`. With ``thermal`` (a
    :class:`~crystaldos.training.thermal.ThermalLoss`) the loss adds ``thermal_weight`` times
    the error of Cv/k_B and S/k_B per atom (logged as ``train_thermal``/``val_thermal``).
    ``w1_weight`` adds that weight times the Wasserstein-1 distance of each spectrum as a
    fraction of its span (:func:`crystaldos.training.losses.cdf_distance`; in joint training,
    of its window, in its normalization). With ``head_loss`` (an
    :class:`~crystaldos.models.electronic_heads.ElectronicHeadLoss`) the model's outputs after
    the spectrum are scalar heads compared with ``batch.y_heads``, weighted by ``head_weight``
    (``val_gap_mae`` and ``val_metal_accuracy`` logged); ``val_mae`` stays the spectrum's.
    """

    def __init__(self, model: nn.Module, *, loss: str = "mse", lr: float = 1e-3,
                 weight_decay: float = 1e-5, scheduler: str = "onecycle",
                 epochs: int = 100, joint_step: float | None = None,
                 thermal: nn.Module | None = None, thermal_weight: float = 0.0,
                 head_loss: nn.Module | None = None, head_weight: float = 0.0,
                 w1_weight: float = 0.0) -> None:
        super().__init__()
        if scheduler not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {scheduler!r}; choose from {SCHEDULERS}")
        self.model = model
        self.loss_name = loss
        self.loss_fn = get_loss(loss)
        self.lr, self.weight_decay = lr, weight_decay
        self.scheduler_name, self.epochs = scheduler, epochs
        self.joint_step = joint_step
        if joint_step is not None and loss not in ("mae", "mse"):
            raise ValueError(f"joint training takes the mae or mse loss, not {loss!r}")
        self.thermal, self.thermal_weight = thermal, float(thermal_weight)
        if head_loss is not None and joint_step is not None:
            raise ValueError("scalar heads are not available in joint training")
        self.head_loss, self.head_weight = head_loss, float(head_weight)
        if w1_weight < 0:
            raise ValueError(f"w1_weight must be >= 0, got {w1_weight}")
        self.w1_weight = float(w1_weight)

    def _split(self, pred: torch.Tensor, batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(spectrum, scalar heads or None) of a model output."""
        if self.head_loss is None:
            return pred, None
        n = batch.y.shape[-1]
        return pred[:, :n], pred[:, n:]

    def _loss(self, pred: torch.Tensor, batch: Any, kind: str | None = None) -> torch.Tensor:
        if self.joint_step is None:
            pred, heads = self._split(pred, batch)
            if kind is not None:
                return torch.mean(torch.abs(pred - batch.y))
            loss = self.loss_fn(pred, batch.y)
            if self.w1_weight:
                loss = loss + self.w1_weight * torch.mean(cdf_distance(pred, batch.y))
            if self.thermal is not None:
                loss = loss + self.thermal_weight * self.thermal(pred, batch.y)
            if heads is not None:
                loss = loss + self.head_weight * self.head_loss(heads, batch.y_heads)
            return loss
        from crystaldos.training.joint import joint_loss

        if kind is not None:
            return joint_loss(pred, batch, self.joint_step, kind)
        return joint_loss(pred, batch, self.joint_step, self.loss_name, self.w1_weight,
                          self.thermal, self.thermal_weight)

    def _thermal_error(self, pred: torch.Tensor, batch: Any) -> torch.Tensor:
        """The thermal term's error (before its weight), in each window in joint training."""
        if self.joint_step is None:
            return self.thermal(self._split(pred, batch)[0], batch.y)
        from crystaldos.training.joint import shape_in_window

        shaped = shape_in_window(pred, batch.mask, batch.task.view(-1), self.joint_step)
        return torch.mean(self.thermal.per_material(shaped, batch.y))

    def forward(self, batch: Any) -> torch.Tensor:
        return self.model(batch)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss = self._loss(self.model(batch), batch)
        self.log("train_loss", loss, batch_size=batch.num_graphs, on_epoch=True, on_step=False,
                 prog_bar=True, sync_dist=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        pred = self.model(batch)
        n = batch.num_graphs
        self.log("val_loss", self._loss(pred, batch), batch_size=n, sync_dist=True)
        self.log("val_mae", self._loss(pred, batch, "mae"), batch_size=n, sync_dist=True,
                 prog_bar=True)
        if self.thermal is not None:
            self.log("val_thermal", self._thermal_error(pred, batch), batch_size=n,
                     sync_dist=True)
        _, heads = self._split(pred, batch)
        if heads is not None:
            for name, value in self.head_loss.metrics(heads, batch.y_heads).items():
                self.log(f"val_{name}", value, batch_size=n, sync_dist=True)

    def configure_optimizers(self) -> Any:
        params = [p for p in self.model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        if self.scheduler_name == "none":
            return opt
        if self.scheduler_name == "cosine":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.epochs)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}
        steps = int(self.trainer.estimated_stepping_batches)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=max(steps, 1))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
