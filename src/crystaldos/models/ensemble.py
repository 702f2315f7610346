"""Deep ensembles: several independently trained spectral models as one model.

A :class:`DeepEnsemble` holds ``n_members`` models of one class and size (trained from
different seeds on the same data) and returns every member's spectrum, ``(B, M, n)``; the
prediction pipeline turns them into a mean spectrum, a per-bin spread and property intervals
(see :mod:`crystaldos.prediction.uncertainty`). :func:`assemble_ensemble` makes one model
directory of trained member directories.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from crystaldos.errors import CrystalDosError


class DeepEnsemble(nn.Module):
    """``n_members`` models of ``member_class`` built from ``member_args``; forward gives
    (B, n_members, n_out)."""

    def __init__(self, member_class: str, member_args: dict[str, Any], n_members: int) -> None:
        super().__init__()
        from crystaldos.models.saving import build_model

        if n_members < 2:
            raise ValueError(f"an ensemble needs at least 2 members, got {n_members}")
        if member_class == "DeepEnsemble":
            raise ValueError("ensemble members cannot be ensembles")
        self.members = nn.ModuleList(build_model(member_class, member_args)
                                     for _ in range(n_members))
        self.n_out = getattr(self.members[0], "n_out", None)

    def forward(self, batch: Any) -> torch.Tensor:
        return torch.stack([member(batch) for member in self.members], dim=1)


def assemble_ensemble(member_dirs: Sequence[str | Path], output: str | Path, *, name: str,
                      aliases: Sequence[str] = (), **sections: Any) -> Path:
    """Write the model directory of an ensemble of the trained ``member_dirs`` (same class,
    size, graph settings, grid and normalization). Its card keeps the first member's graph,
    grid, normalization and domain, and each member's training record; ``sections`` are added
    (validation, uncertainty calibration...)."""
    from crystaldos.models.saving import load_model, make_card, save_model

    bundles = [load_model(d) for d in member_dirs]
    first = bundles[0].card
    for d, b in zip(member_dirs, bundles, strict=True):
        for key in ("model_class", "init_args", "graph", "grid", "normalization"):
            if json.dumps(b.card[key], sort_keys=True) != json.dumps(first[key], sort_keys=True):
                raise CrystalDosError(f"{d}: its {key} differs from {member_dirs[0]}'s; "
                                      "members must share model, graph, grid and normalization")
    ensemble = DeepEnsemble(first["model_class"], first["init_args"], len(bundles))
    for member, bundle in zip(ensemble.members, bundles, strict=True):
        member.load_state_dict(bundle.model.state_dict())
    card = make_card("DeepEnsemble",
                     {"member_class": first["model_class"], "member_args": first["init_args"],
                      "n_members": len(bundles)},
                     bundles[0].graph_settings, bundles[0].grid, first["normalization"],
                     name=name, aliases=list(aliases),
                     target=first.get("target", {}), domain=first.get("domain"),
                     members=[{"directory": str(d), "training": b.card.get("training", {}),
                               "validation": b.card.get("validation", {})}
                              for d, b in zip(member_dirs, bundles, strict=True)],
                     **sections)
    return save_model(output, ensemble, card)
