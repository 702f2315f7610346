"""The mean of several models' predictions, scored on validation and written for the test split.

    python benchmarks/mix_predictions.py benchmarks/results_mp-phdos-xtal2dos \\
        benchmarks/results_phdos/mp-phonon --out benchmarks/results_mix_mp-xtal2dos-phdos

Each folder holds ``val_predictions.csv`` and ``test_predictions.csv`` as
``benchmarks/phdos_accuracy.py`` writes them (``id,target,prediction``, values joined by ``;``, on
the data set's own grid). Every prediction is clipped and scaled to unit sum, the models count
equally (fixed before measuring, not chosen on validation), and the mean is scored on the
validation targets of the first folder in the Xtal2DoS protocol
(:func:`crystaldos.evaluation.xtal2dos_protocol.xtal2dos_metrics`) beside each model alone.
Models whose graphs differ (the Xtal2DoS model reads no line graph, ``phdos`` does) cannot yet
be one bundled ensemble (:class:`crystaldos.models.ensemble.DeepEnsemble` shares one graph), so
the mix exists as these files: ``val_predictions.csv``, ``test_predictions.csv`` (empty targets,
for independent scoring) and ``metrics.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np


def read(path: Path) -> dict[str, tuple[str, np.ndarray]]:
    """id -> (target field as written, prediction (n,))."""
    with path.open() as handle:
        return {row["id"]: (row["target"], np.array([float(v) for v in
                                                     row["prediction"].split(";")]))
                for row in csv.DictReader(handle)}


def main() -> None:
    from crystaldos.evaluation.xtal2dos_protocol import unit_sum, xtal2dos_metrics

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if len(args.folders) < 2:
        raise SystemExit("error: give at least two prediction folders")
    args.out.mkdir(parents=True, exist_ok=True)
    metrics: dict = {"models": [str(f) for f in args.folders], "weights": "equal"}
    for split in ("val", "test"):
        tables = [read(f / f"{split}_predictions.csv") for f in args.folders]
        ids = list(tables[0])
        if any(set(t) != set(ids) for t in tables):
            raise SystemExit(f"error: the {split} predictions do not cover the same ids")
        mixed = {i: np.mean([unit_sum(t[i][1])[0] for t in tables], axis=0) for i in ids}
        with (args.out / f"{split}_predictions.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "target", "prediction"])
            for i in ids:
                writer.writerow([i, tables[0][i][0], ";".join(f"{v:.6g}" for v in mixed[i])])
        if split == "val":
            true = np.stack([[float(v) for v in tables[0][i][0].split(";")] for i in ids])
            metrics["val"] = {"mix": xtal2dos_metrics(np.stack([mixed[i] for i in ids]), true)}
            for folder, table in zip(args.folders, tables, strict=True):
                metrics["val"][str(folder)] = xtal2dos_metrics(
                    np.stack([table[i][1] for i in ids]), true)
        metrics[f"n_{split}"] = len(ids)
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    for name, m in metrics["val"].items():
        print(f"{name:>45s}  R2 {m['r2']:.3f}  MAE {m['mae']:.5f}  MSE {m['mse']:.6f}  "
              f"WD {m['wd']:.4f}")


if __name__ == "__main__":
    main()
