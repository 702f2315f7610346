"""Record the training domain (elements of the training materials) in bundled model cards.

Cards written by ``crystaldos train`` carry it already; the models bundled before that are given
it here from their ``splits.json`` training ids and the shared data sets their structures came
from (the xTB eDOS set was computed on the JARVIS and Materials Project structures):

    python scripts/add_training_domain.py
"""

from __future__ import annotations

import json
import sys

from crystaldos.datasets.shared import load_jarvis_phonon_benchmark, load_mp_phonon
from crystaldos.models.domain import training_domain
from crystaldos.pretrained import PRETRAINED_DIR
from crystaldos.safe_io import atomic_write_text


def main() -> None:
    structures = {r.id: r.crystal for r in load_jarvis_phonon_benchmark(structures="both")
                  if r.crystal is not None}
    structures.update({r.id: r.crystal for r in load_mp_phonon()})
    for card_path in sorted(PRETRAINED_DIR.glob("*/card.json")):
        splits_path = card_path.parent / "splits.json"
        if not splits_path.is_file():
            continue
        card = json.loads(card_path.read_text())
        train = json.loads(splits_path.read_text())["train"]
        missing = [i for i in train if i not in structures]
        if missing:
            sys.exit(f"error: {card_path.parent.name}: {len(missing)} training ids have no "
                     f"shared structure (first {missing[0]})")
        card["domain"] = training_domain(structures[i] for i in train)
        atomic_write_text(card_path, json.dumps(card, indent=1) + "\n")
        print(f"{card_path.parent.name}: {len(card['domain']['elements'])} elements from "
              f"{len(train)} training materials")


if __name__ == "__main__":
    main()
