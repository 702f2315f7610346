"""Record the training domain (elements and compositions of the training materials) in bundled
model cards.

Cards written by ``crystaldos train`` carry it already; the models bundled before that (or before
the domain held compositions) are given it here from their training ids (``splits.json``, or one
``splits-<set>.json`` per data set of a jointly trained model) and the data sets their
structures came from (the xTB eDOS set was computed on the JARVIS and Materials Project
structures; phonondb cells come from ``data/phonondb``):

    python scripts/add_training_domain.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from crystaldos.datasets.shared import load_jarvis_phonon_benchmark, load_mp_phonon
from crystaldos.models.domain import training_domain
from crystaldos.pretrained import PRETRAINED_DIR
from crystaldos.safe_io import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]


def structures_by_set() -> dict[str, dict[str, object]]:
    """Structures by id of every data set a bundled model was trained on."""
    from crystaldos.datasets.phonondb import load_phonondb

    jarvis = {r.id: r.crystal for r in load_jarvis_phonon_benchmark(structures="both")
              if r.crystal is not None}
    mp = {r.id: r.crystal for r in load_mp_phonon()}
    phonondb = {r.id: r.crystal for r in load_phonondb(ROOT / "data" / "phonondb")
                if r.crystal is not None}
    return {"jarvis-phonon": jarvis, "mp-phonon": mp, "phonondb": phonondb,
            "shared": {**jarvis, **mp}}


def training_crystals(directory: Path, sets: dict[str, dict[str, object]]) -> list[object]:
    if (directory / "splits.json").is_file():
        parts = {"shared": json.loads((directory / "splits.json").read_text())["train"]}
    else:
        parts = {p.stem.removeprefix("splits-"): json.loads(p.read_text())["train"]
                 for p in sorted(directory.glob("splits-*.json"))}
    crystals = []
    for set_name, ids in parts.items():
        known = sets[set_name]
        missing = [i for i in ids if i not in known]
        if missing:
            sys.exit(f"error: {directory.name}: {len(missing)} {set_name} training ids have no "
                     f"structure (first {missing[0]})")
        crystals += [known[i] for i in ids]
    return crystals


def main() -> None:
    sets = structures_by_set()
    for card_path in sorted(PRETRAINED_DIR.glob("*/card.json")):
        crystals = training_crystals(card_path.parent, sets)
        if not crystals:
            continue
        card = json.loads(card_path.read_text())
        card["domain"] = training_domain(crystals)
        atomic_write_text(card_path, json.dumps(card, indent=1) + "\n")
        d = card["domain"]
        print(f"{card_path.parent.name}: {len(d['elements'])} elements, "
              f"{len(d['compositions'])} compositions from {len(crystals)} training materials; "
              f"median nearest-composition distance {d['composition_scale']:.4f}")


if __name__ == "__main__":
    main()
