"""Deep ensembles: several independently trained spectral models as one model.

A :class:`DeepEnsemble` holds ``n_members`` models of one class and size (trained from
different seeds on the same data) and returns every member's spectrum, ``(B, M, n)``; the
prediction pipeline turns them into a mean spectrum, a per-bin spread and property intervals
(see :mod:`crystaldos.prediction.uncertainty`). It may also hold *guests*: models of another
recipe and a wider grid of which the ensemble's grid is a window (the joint ``phdos`` on
phdos221 beside MP members on phdos51), each counted ``repeat`` times in the mean, so that one
guest can weigh as much as all the members together. Each member's spectrum is normalized
before the mean, so scales need not agree. :func:`assemble_ensemble` makes one model
directory of trained member directories; :func:`unpack_members` writes an ensemble's members
back as model directories.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from crystaldos.errors import CrystalDosError
from crystaldos.graphs.crystal_graph import GraphSettings


class DeepEnsemble(nn.Module):
    """``n_members`` models of ``member_class`` built from ``member_args``; forward gives
    (B, n_members, n_out)."""

    def __init__(self, member_class: str, member_args: dict[str, Any], n_members: int,
                 guests: Sequence[dict[str, Any]] = ()) -> None:
        """``guests``: [{"model_class", "init_args", "offset": index of the ensemble grid's
        first point on the guest's grid, "repeat": times it counts}, ...]."""
        super().__init__()
        from crystaldos.models.saving import build_model

        if n_members + len(guests) < 2 or n_members < 1:
            raise ValueError(f"an ensemble needs at least 2 models, got {n_members} members "
                             f"and {len(guests)} guests")
        if "DeepEnsemble" in (member_class, *(g["model_class"] for g in guests)):
            raise ValueError("ensemble members cannot be ensembles")
        self.members = nn.ModuleList(build_model(member_class, member_args)
                                     for _ in range(n_members))
        self.n_out = getattr(self.members[0], "n_out", None)
        self.guests = nn.ModuleList(build_model(g["model_class"], g["init_args"])
                                    for g in guests)
        self.guest_windows = [(int(g["offset"]), int(g["repeat"])) for g in guests]

    def forward(self, batch: Any) -> torch.Tensor:
        out = torch.stack([member(batch) for member in self.members], dim=1)
        n = out.shape[-1]
        parts = [out]
        for guest, (offset, repeat) in zip(self.guests, self.guest_windows, strict=True):
            window = guest(batch)[:, offset:offset + n]
            parts.append(window.unsqueeze(1).expand(-1, repeat, -1))
        return torch.cat(parts, dim=1)


def assemble_ensemble(member_dirs: Sequence[str | Path], output: str | Path, *, name: str,
                      aliases: Sequence[str] = (),
                      guests: Sequence[tuple[str | Path, int]] = (), **sections: Any) -> Path:
    """Write the model directory of an ensemble of the trained ``member_dirs`` (same class,
    size, graph settings, grid and normalization). Its card keeps the first member's grid,
    normalization and domain, and each member's training record; ``sections`` are added
    (validation, uncertainty calibration...). ``guests``: (model directory or bundled name,
    times it counts) of models on a grid of which the members' grid is a window, with the
    members' graph settings or those plus a line graph the members do not read
    (:func:`shared_graph`; the card then takes the settings with the line graph)."""
    from crystaldos.models.saving import load_model, make_card, save_model
    from crystaldos.pretrained import load_pretrained
    from crystaldos.training.joint import window_offset

    bundles = [load_model(d) for d in member_dirs]
    first = bundles[0].card
    for d, b in zip(member_dirs, bundles, strict=True):
        for key in ("model_class", "init_args", "graph", "grid", "normalization"):
            if json.dumps(b.card[key], sort_keys=True) != json.dumps(first[key], sort_keys=True):
                raise CrystalDosError(f"{d}: its {key} differs from {member_dirs[0]}'s; "
                                      "members must share model, graph, grid and normalization")
    guest_bundles = [(load_pretrained(str(g)), int(repeat)) for g, repeat in guests]
    graph = bundles[0].graph_settings
    guest_specs = []
    for (source, _), (guest, repeat) in zip(guests, guest_bundles, strict=True):
        graph = shared_graph(graph, guest.graph_settings, str(source))
        if repeat < 1:
            raise CrystalDosError(f"guest {source}: it must count at least once, not {repeat}")
        guest_specs.append({"model_class": guest.card["model_class"],
                            "init_args": guest.card["init_args"],
                            "offset": window_offset(bundles[0].grid, guest.grid),
                            "repeat": repeat})
    ensemble = DeepEnsemble(first["model_class"], first["init_args"], len(bundles), guest_specs)
    for member, bundle in zip(ensemble.members, bundles, strict=True):
        member.load_state_dict(bundle.model.state_dict())
    for member, (bundle, _) in zip(ensemble.guests, guest_bundles, strict=True):
        member.load_state_dict(bundle.model.state_dict())
    init_args: dict[str, Any] = {"member_class": first["model_class"],
                                 "member_args": first["init_args"], "n_members": len(bundles)}
    if guest_specs:
        init_args["guests"] = guest_specs
        sections["guests"] = [{"model": str(source), "name": b.card.get("name"),
                               "repeat": repeat, "training": b.card.get("training", {}),
                               "validation": b.card.get("validation", {})}
                              for (source, _), (b, repeat) in zip(guests, guest_bundles,
                                                                  strict=True)]
    card = make_card("DeepEnsemble", init_args,
                     graph, bundles[0].grid, first["normalization"],
                     name=name, aliases=list(aliases),
                     target=first.get("target", {}), domain=first.get("domain"),
                     members=[{"directory": str(d), "training": b.card.get("training", {}),
                               "validation": b.card.get("validation", {})}
                              for d, b in zip(member_dirs, bundles, strict=True)],
                     **sections)
    return save_model(output, ensemble, card)


#: graph settings that only add the line graph: a model that reads no line graph gives the
#: same output on a graph that has one (its atoms, edges and vectors are the same)
LINE_GRAPH_FIELDS = ("line_graph", "three_body_neighbors")


def shared_graph(ours: GraphSettings, theirs: GraphSettings, source: str) -> GraphSettings:
    """The graph settings an ensemble needs for models built on ``ours`` and ``theirs``: the
    same, or the same but for a line graph that only one of them builds (then the settings
    with it); otherwise an error naming ``source``."""
    if ours == theirs:
        return ours
    base = {k: v for k, v in ours.to_dict().items() if k not in LINE_GRAPH_FIELDS}
    other = {k: v for k, v in theirs.to_dict().items() if k not in LINE_GRAPH_FIELDS}
    if base != other or (ours.line_graph and theirs.line_graph):  # both read a line graph
        raise CrystalDosError(f"guest {source}: its graph settings differ from the members'; "
                              "it would read other inputs")
    return theirs if theirs.line_graph else ours


def unpack_members(ensemble_dir: str | Path, output: str | Path) -> list[Path]:
    """Write each member (not guest) of the ensemble at ``ensemble_dir`` as a model directory
    ``output/member-<k>`` with the ensemble's graph, grid, normalization and domain and the
    member's own training and validation records; returns the directories, in order."""
    from crystaldos.models.saving import load_model, make_card, save_model

    bundle = load_model(ensemble_dir)
    card = bundle.card
    if card["model_class"] != "DeepEnsemble":
        raise CrystalDosError(f"{ensemble_dir}: not an ensemble")
    out = []
    for k, (member, record) in enumerate(zip(bundle.model.members, card["members"],
                                             strict=True)):
        member_card = make_card(card["init_args"]["member_class"],
                                card["init_args"]["member_args"], bundle.graph_settings,
                                bundle.grid, card["normalization"],
                                name=f"{card['name']}-member-{k}", aliases=[],
                                target=card.get("target", {}), domain=card.get("domain"),
                                training=record.get("training", {}),
                                validation=record.get("validation", {}))
        out.append(save_model(Path(output) / f"member-{k}", member, member_card))
    return out
