"""Joint training on several phonon data sets with one encoder and one output grid.

Every data set keeps its own grid: JARVIS (phdos66), Materials Project (phdos51) and phonondb
(phdos221). The model predicts a non-negative spectrum on the model grid (default phdos221, of
which the other two grids are exact subsets). Each target is placed in its window of the model
grid with a mask, and the loss compares, per material, the prediction restricted to that window
*and normalized the way the target is* with the target. Every set is compared max-normalized by
default (the JARVIS and MP convention; a unit-area phonondb target would give errors a thousand
times smaller and be ignored beside the others); data sets are weighted as configured.
Selection uses the validation split of every set only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from crystaldos.datasets.base import DOSDataset
from crystaldos.errors import CrystalDosError
from crystaldos.spectra.grid import Grid

#: how a target is normalized inside its window: index used in the graphs' ``task`` field.
SHAPE_NORMALIZATIONS = ("max", "area", "sum")
_EPS = 1e-8


@dataclass
class JointPart:
    """One data set of a joint run: its records, weight and window on the model grid."""

    name: str
    dataset: DOSDataset
    weight: float
    offset: int  # index of the data set's first grid point on the model grid
    normalization: str = "max"  # the shape the loss and the metrics compare

    @property
    def window(self) -> slice:
        return slice(self.offset, self.offset + self.dataset.grid.count)


def window_offset(inner: Grid, outer: Grid) -> int:
    """Index of ``inner``'s first point on ``outer`` when its points are a run of ``outer``'s
    points (same unit and step, aligned start, inside the span); else an error."""
    if inner.unit != outer.unit or inner.kind != outer.kind or \
            not np.isclose(inner.step, outer.step):
        raise CrystalDosError(f"grid {inner} is not a window of the model grid {outer} (unit "
                              "or step differ)")
    offset = (inner.start - outer.start) / outer.step
    if not np.isclose(offset, round(offset)) or offset < 0 or \
            round(offset) + inner.count > outer.count:
        raise CrystalDosError(f"grid {inner} does not lie on the points of the model grid "
                              f"{outer}")
    return round(offset)


def embed_target(values: np.ndarray, part: JointPart, model_grid: Grid,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(target on the model grid, mask of its window), both (count,) float32."""
    y = np.zeros(model_grid.count, dtype=np.float32)
    mask = np.zeros(model_grid.count, dtype=np.float32)
    y[part.window] = values
    mask[part.window] = 1.0
    return y, mask


def shape_in_window(pred: torch.Tensor, mask: torch.Tensor, task: torch.Tensor,
                    step: float) -> torch.Tensor:
    """The prediction restricted to each row's window and normalized like its target:
    task 0 max, 1 area (sum * step), 2 sum. pred, mask: (B, n); task: (B,)."""
    p = pred.clamp(min=0) * mask
    by_max = p.amax(dim=-1, keepdim=True)
    by_sum = p.sum(dim=-1, keepdim=True)
    factor = torch.where((task == 0)[:, None], by_max,
                         torch.where((task == 1)[:, None], by_sum * step, by_sum))
    return p / (factor + _EPS)


def joint_loss(pred: torch.Tensor, batch: Any, step: float, kind: str = "mae",
               w1_weight: float = 0.0, thermal: torch.nn.Module | None = None,
               thermal_weight: float = 0.0) -> torch.Tensor:
    """Weighted mean over materials of the per-material error in its own window and
    normalization (``mae`` or ``mse``), plus ``w1_weight`` times its Wasserstein-1 distance
    in the window as a fraction of the window
    (:func:`crystaldos.training.losses.cdf_distance`), plus ``thermal_weight`` times the
    error of Cv and S per atom of the prediction in the window
    (:class:`crystaldos.training.thermal.ThermalLoss` on the model grid)."""
    from crystaldos.training.losses import cdf_distance

    mask, weight = batch.mask, batch.weight.view(-1)
    shaped = shape_in_window(pred, mask, batch.task.view(-1), step)
    diff = (shaped - batch.y) * mask
    err = diff.abs() if kind == "mae" else diff * diff
    per_material = err.sum(dim=-1) / mask.sum(dim=-1).clamp(min=1.0)
    if w1_weight:
        per_material = per_material + w1_weight * cdf_distance(shaped, batch.y, mask)
    if thermal is not None and thermal_weight:
        per_material = per_material + thermal_weight * thermal.per_material(shaped, batch.y)
    return (per_material * weight).sum() / weight.sum().clamp(min=_EPS)


def task_index(normalization: str) -> int:
    if normalization not in SHAPE_NORMALIZATIONS:
        raise CrystalDosError(f"joint training compares shapes; a data set in "
                              f"{normalization!r} normalization cannot join "
                              f"(use one of {SHAPE_NORMALIZATIONS})")
    return SHAPE_NORMALIZATIONS.index(normalization)


def attach_joint_targets(graphs: list[Any], part: JointPart, targets: dict[str, np.ndarray],
                         model_grid: Grid) -> list[Any]:
    """Give each graph of ``part`` its embedded target, mask, task and weight (in place)."""
    task = task_index(part.normalization)
    for graph in graphs:
        y, mask = embed_target(targets[graph.id], part, model_grid)
        graph.y = torch.from_numpy(y)[None]
        graph.mask = torch.from_numpy(mask)[None]
        graph.task = torch.tensor([task])
        graph.weight = torch.tensor([float(part.weight)])
        graph.part = part.name
    return graphs


def predictions_on_part(pred: np.ndarray, part: JointPart) -> np.ndarray:
    """(n, model count) predictions as the part's spectra: its window, its normalization."""
    from crystaldos.spectra.normalize import normalize

    window = np.clip(pred[:, part.window], 0.0, None) + 1e-12
    return normalize(window, part.dataset.grid, part.normalization)[0]
