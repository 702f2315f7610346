"""Models that ship inside the package (one directory each: ``card.json`` + ``weights.pt``).

They load offline. ``resolve_model`` accepts a bundled name or alias, or a path to any model
directory written by ``crystaldos train``.
"""

from __future__ import annotations

import json
from pathlib import Path

from crystaldos.models.saving import CARD_FILE, ModelBundle, ModelLoadError, load_model

PRETRAINED_DIR = Path(__file__).resolve().parent


def bundled_models() -> dict[str, Path]:
    """Bundled model directories by name, plus their aliases from the cards."""
    found: dict[str, Path] = {}
    for card_path in sorted(PRETRAINED_DIR.glob(f"*/{CARD_FILE}")):
        directory = card_path.parent
        found[directory.name] = directory
        try:
            aliases = json.loads(card_path.read_text()).get("aliases", [])
        except (OSError, json.JSONDecodeError):
            aliases = []
        for alias in aliases:
            found.setdefault(alias, directory)
    return found


def resolve_model(name_or_path: str | Path) -> Path:
    """The directory of a bundled model name/alias or of a model path."""
    path = Path(name_or_path)
    if (path / CARD_FILE).exists():
        return path
    models = bundled_models()
    if str(name_or_path) in models:
        return models[str(name_or_path)]
    names = ", ".join(sorted({p.name for p in models.values()})) or "none"
    raise ModelLoadError(f"{name_or_path}: not a bundled model ({names}) nor a model directory")


def load_pretrained(name_or_path: str | Path, *, device: str = "cpu") -> ModelBundle:
    """Load a bundled model by name or a model directory by path."""
    return load_model(resolve_model(name_or_path), device=device)
