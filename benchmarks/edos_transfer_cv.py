"""Which start is best for the small DFT eDOS set: scratch, or the encoder of another model?

Grouped K-fold cross-validation on the training and validation spectra of the DFT set (its test
split is never read): each fold's formulas are the validation set once, the rest train, with
the recipe of ``configs/pbe-edos.yaml`` and ``init_from`` set to each candidate. Reports the
mean over folds of the DOS MAE (per valence electron), the direct gap MAE and the metal/gapped
accuracy, beside the mean spectrum, the composition kNN and the composition rule on the same
folds.

    python benchmarks/edos_transfer_cv.py --data runs/dft_edos.jsonl --folds 4 \\
        --starts none xtb-edos phdos --out benchmarks/results_pbe_edos/transfer_cv.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np


def fold_of(species: list[str], folds: int) -> int:
    """The fold of a cell, by its reduced formula (polymorphs share a fold)."""
    from collections import Counter

    from pymatgen.core import Composition

    key = Composition(Counter(species)).reduced_formula
    return int(hashlib.sha256(f"cv:{key}".encode()).hexdigest(), 16) % folds


def main() -> None:
    from crystaldos.training.config import TrainConfig
    from crystaldos.training.trainer import train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=Path("configs/pbe-edos.yaml"))
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--starts", nargs="+", default=["none", "xtb-edos", "phdos"])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    lines = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    pool = [rec for rec in lines if rec.get("split") in ("train", "val")]
    results: dict = {"data": str(args.data), "n": len(pool), "folds": args.folds, "starts": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for start in args.starts:
            per_fold = []
            for k in range(args.folds):
                path = Path(tmp) / f"fold{k}.jsonl"
                with path.open("w") as handle:
                    for rec in pool:
                        split = "val" if fold_of(rec["species"], args.folds) == k else "train"
                        handle.write(json.dumps({**rec, "split": split}) + "\n")
                config = TrainConfig.from_yaml(args.config, dataset=str(path),
                                               output=str(Path(tmp) / f"{start}-{k}"),
                                               init_from=None if start == "none" else start)
                config.progress = False
                card = json.loads((train(config) / "card.json").read_text())
                val = card["validation"]
                per_fold.append({"n_val": val["heads"]["n"],
                                 "dos_mae": val["model"]["mae"],
                                 "mean_spectrum_mae": val["mean_spectrum"]["mae"],
                                 "composition_knn_mae": val["composition_knn"]["mae"],
                                 "gap_mae_eV": val["heads"]["gap_mae_eV"],
                                 "metal_accuracy": val["heads"]["metal_accuracy"],
                                 "composition_rule_accuracy":
                                     val["heads"]["composition_rule_accuracy"]})
            weights = np.array([f["n_val"] for f in per_fold], dtype=float)
            summary = {key: float(np.average([f[key] for f in per_fold], weights=weights))
                       for key in per_fold[0] if key != "n_val"}
            results["starts"][start] = {"mean_over_folds": summary, "folds": per_fold}
            print(start, json.dumps({k: round(v, 4) for k, v in summary.items()}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
