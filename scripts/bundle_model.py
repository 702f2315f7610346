"""Copy a trained model directory into the package as a bundled model.

Copies ``card.json``, ``weights.pt`` and ``splits.json`` into ``src/crystaldos/pretrained/NAME``,
sets the card's name and aliases and records which run it came from; the weights are not
touched, so the card's training record (command, config, metrics) stays exact.

    python scripts/bundle_model.py runs/xtal2dos-gru mp-phdos-xtal2dos --alias mp-phdos-xtal2dos-v1
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from crystaldos.models.saving import load_model
from crystaldos.pretrained import PRETRAINED_DIR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="model directory written by crystaldos train")
    parser.add_argument("name", help="bundled name")
    parser.add_argument("--alias", action="append", default=[])
    args = parser.parse_args()
    load_model(args.run)  # refuse to bundle anything that does not load
    target = PRETRAINED_DIR / args.name
    target.mkdir(parents=True, exist_ok=True)
    for name in ("weights.pt", "splits.json"):
        shutil.copy2(args.run / name, target / name)
    card = json.loads((args.run / "card.json").read_text())
    card["bundled_from"] = {"run": str(args.run), "run_name": card.get("name")}
    card["name"], card["aliases"] = args.name, list(args.alias)
    (target / "card.json").write_text(json.dumps(card, indent=1) + "\n")
    load_model(target)
    print(f"bundled {args.run} as {args.name} -> {target}")


if __name__ == "__main__":
    main()
