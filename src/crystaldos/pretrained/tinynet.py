"""TinyNet force/local-DOS models that ship inside the package (``pretrained/tinynet/*.pt``).

Each file carries its embedding settings, grid and a metadata card (system, reference engine,
held-out errors). They load offline.
"""

from __future__ import annotations

from pathlib import Path

from crystaldos.errors import DatasetError
from crystaldos.models.tinynet import TinyNetBundle, load_tinynet

TINYNET_DIR = Path(__file__).resolve().parent / "tinynet"


def bundled_tinynets() -> dict[str, Path]:
    """Bundled TinyNet files by name (the file stem)."""
    return {p.stem: p for p in sorted(TINYNET_DIR.glob("*.pt"))}


def load_pretrained_tinynet(name_or_path: str | Path) -> TinyNetBundle:
    """Load a bundled TinyNet by name, or any TinyNet file by path."""
    path = Path(name_or_path)
    if path.is_file():
        return load_tinynet(path)
    models = bundled_tinynets()
    if str(name_or_path) in models:
        return load_tinynet(models[str(name_or_path)])
    raise DatasetError(str(name_or_path), "not a bundled TinyNet "
                                          f"({', '.join(models) or 'none'}) nor a TinyNet file")
