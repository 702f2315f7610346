"""Model directories: ``weights.pt`` (a plain state dict) and ``card.json`` (everything else).

The card names the model class and its init arguments, the graph settings (and the digest of the
atom-feature table they used), the output grid and normalization, the training data, split and
command, and validation metrics with their baselines. Inference rebuilds every preprocessing step
from the card, never from package defaults, and refuses a card whose feature table has changed.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from torch import nn

from crystaldos import __version__
from crystaldos.errors import CrystalDosError
from crystaldos.graphs.atom_features import feature_table_digest
from crystaldos.graphs.crystal_graph import GraphSettings
from crystaldos.models.alignn import ALIGNNDOS
from crystaldos.models.autoencoder import AELatentALIGNN, SpectrumAutoencoder
from crystaldos.models.ensemble import DeepEnsemble
from crystaldos.models.xtal2dos import Xtal2DoS
from crystaldos.safe_io import atomic_target, atomic_write_text
from crystaldos.spectra.grid import Grid

CARD_FORMAT = 1
WEIGHTS_FILE = "weights.pt"
CARD_FILE = "card.json"

MODEL_CLASSES: dict[str, type[nn.Module]] = {
    "ALIGNNDOS": ALIGNNDOS,
    "AELatentALIGNN": AELatentALIGNN,
    "SpectrumAutoencoder": SpectrumAutoencoder,
    "Xtal2DoS": Xtal2DoS,
    "DeepEnsemble": DeepEnsemble,
}


class ModelLoadError(CrystalDosError):
    """A model directory is missing, incomplete or inconsistent."""


def register_model_class(cls: type[nn.Module]) -> type[nn.Module]:
    """Make a model class loadable from cards by its name (usable as a decorator)."""
    MODEL_CLASSES[cls.__name__] = cls
    return cls


def build_model(class_name: str, init_args: dict[str, Any]) -> nn.Module:
    if class_name not in MODEL_CLASSES:
        raise ModelLoadError(f"unknown model class {class_name!r}; known: {sorted(MODEL_CLASSES)}")
    return MODEL_CLASSES[class_name](**init_args)


@dataclass
class ModelBundle:
    """A model ready for inference with the preprocessing recorded in its card."""

    model: nn.Module
    card: dict[str, Any]
    path: Path | None = None

    @property
    def graph_settings(self) -> GraphSettings:
        return GraphSettings.from_dict(self.card["graph"])

    @property
    def grid(self) -> Grid:
        return Grid.from_dict(self.card["grid"])

    @property
    def normalization(self) -> str:
        return str(self.card["normalization"])

    @property
    def name(self) -> str:
        return str(self.card.get("name") or (self.path.name if self.path else "model"))

    @cached_property
    def composition_distance(self) -> Any:
        """The out-of-domain score of the card's training domain
        (:class:`crystaldos.models.domain.CompositionDistance`), built once per loaded model."""
        from crystaldos.models.domain import CompositionDistance

        return CompositionDistance(self.card.get("domain"))

    @cached_property
    def gap_trees(self) -> Any:
        """The :class:`crystaldos.prediction.band_gap.GapTrees` that the card names under
        ``gap_trees`` (a bundled folder's name, or an absolute path; they give the metal
        probability and band gap of the rows in place of the network's own heads), or None."""
        name = self.card.get("gap_trees")
        if not name:
            return None
        from crystaldos.prediction.band_gap import GapTrees

        return GapTrees.load(name)


def make_card(model_class: str, init_args: dict[str, Any], graph: GraphSettings, grid: Grid,
              normalization: str, **sections: Any) -> dict[str, Any]:
    """A card with the required fields; ``sections`` (training, validation, name...) are added."""
    return {
        "format": CARD_FORMAT,
        "model_class": model_class,
        "init_args": init_args,
        "graph": graph.to_dict(),
        "atom_features": {"name": graph.atom_features,
                          "digest": feature_table_digest(graph.atom_features)},
        "grid": grid.to_dict(),
        "normalization": normalization,
        "crystaldos_version": __version__,
        **sections,
    }


def save_model(directory: str | Path, model: nn.Module, card: dict[str, Any]) -> Path:
    """Write ``weights.pt`` and ``card.json`` into ``directory`` (created; files replaced)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_target(directory / WEIGHTS_FILE) as tmp:
        torch.save(state, tmp)
    atomic_write_text(directory / CARD_FILE, json.dumps(card, indent=1, sort_keys=False) + "\n")
    return directory


#: A card is a few kB; anything far larger (or not a regular file) is refused unread.
MAX_CARD_BYTES = 10_000_000
#: Largest integer a card's init arguments may hold (layer widths, output points): a bound far
#: above every model here that keeps a damaged card from asking for terabytes.
MAX_INIT_INT = 100_000


def _check_numbers(value: Any, where: str, path: Path) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int | float):
        if not (abs(value) <= MAX_INIT_INT) or value != value:
            raise ModelLoadError(f"{path}: {where} = {value!r} is out of range")
        return
    if isinstance(value, list):
        for k, item in enumerate(value):
            _check_numbers(item, f"{where}[{k}]", path)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_numbers(item, f"{where}.{key}", path)
        return
    raise ModelLoadError(f"{path}: {where} has an unexpected value of type "
                         f"{type(value).__name__}")


def validate_card(card: Any, path: Path) -> dict[str, Any]:
    """The card if every field inference relies on is present and sane; else a one-line
    :class:`ModelLoadError` naming the card and the field."""
    from crystaldos.spectra.normalize import NORMALIZATIONS

    if not isinstance(card, dict):
        raise ModelLoadError(f"{path}: a model card must be a JSON object")
    missing = [k for k in ("model_class", "init_args", "graph", "grid", "normalization")
               if k not in card]
    if missing:
        raise ModelLoadError(f"{path}: model card lacks {', '.join(missing)}")
    if card["model_class"] not in MODEL_CLASSES:
        raise ModelLoadError(f"{path}: unknown model class {card['model_class']!r}; known: "
                             f"{sorted(MODEL_CLASSES)}")
    if not isinstance(card["init_args"], dict):
        raise ModelLoadError(f"{path}: init_args must be an object")
    _check_numbers(card["init_args"], "init_args", path)
    if card["normalization"] not in NORMALIZATIONS:
        raise ModelLoadError(f"{path}: unknown normalization {card['normalization']!r}; "
                             f"known: {', '.join(NORMALIZATIONS)}")
    try:
        grid = Grid.from_dict(card["grid"])
        settings = GraphSettings.from_dict(card["graph"])
    except (TypeError, ValueError, KeyError, AttributeError, CrystalDosError) as err:
        raise ModelLoadError(f"{path}: bad grid or graph settings ({err})") from None
    if grid.count > MAX_INIT_INT:
        raise ModelLoadError(f"{path}: a grid of {grid.count} points is out of range")
    _check_numbers(settings.to_dict(), "graph", path)
    for key in ("name",):
        if key in card and not isinstance(card[key], str):
            raise ModelLoadError(f"{path}: {key} must be a string")
    if not isinstance(card.get("aliases", []), list):
        raise ModelLoadError(f"{path}: aliases must be a list")
    return card


def read_card(directory: str | Path) -> dict[str, Any]:
    """The validated card of a model directory (see :func:`validate_card`)."""
    path = Path(directory) / CARD_FILE
    if not path.exists():
        raise ModelLoadError(f"{directory}: not a model directory (no {CARD_FILE})")
    if not path.is_file() or path.stat().st_size > MAX_CARD_BYTES:
        raise ModelLoadError(f"{path}: not a regular file of at most {MAX_CARD_BYTES} bytes")
    try:
        with open(path, "rb") as handle:
            card = json.loads(handle.read(MAX_CARD_BYTES + 1))
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"{path}: unreadable model card ({err})") from None
    return validate_card(card, path)


def load_model(directory: str | Path, *, device: str | torch.device = "cpu") -> ModelBundle:
    """Load a model directory (weights with ``weights_only=True``) in eval mode."""
    directory = Path(directory)
    card = read_card(directory)
    features = card.get("atom_features", {})
    name = card["graph"].get("atom_features")
    if features.get("digest") and features["digest"] != feature_table_digest(name):
        raise ModelLoadError(f"{directory}: the atom-feature table {name!r} differs from the one "
                             "this model was trained with; use the crystaldos version in the card "
                             f"({card.get('crystaldos_version')})")
    try:
        model = build_model(card["model_class"], card["init_args"])
    except (TypeError, ValueError, RuntimeError, KeyError) as err:
        raise ModelLoadError(f"{directory / CARD_FILE}: init_args do not build a "
                             f"{card['model_class']} ({type(err).__name__}: {err})") from None
    try:
        state = torch.load(directory / WEIGHTS_FILE, map_location=device, weights_only=True)
        model.load_state_dict(state)
    except FileNotFoundError:
        raise ModelLoadError(f"{directory}: no {WEIGHTS_FILE}") from None
    except (RuntimeError, OSError, ValueError, EOFError, pickle.UnpicklingError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelLoadError(f"{directory / WEIGHTS_FILE}: cannot load weights ({first})") from None
    model.to(device).eval()
    return ModelBundle(model, card, directory)
