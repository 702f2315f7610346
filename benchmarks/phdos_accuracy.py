"""Accuracy of a trained phonon-DOS model beside the two baselines, on the same spectra.

For the JARVIS leaderboard benchmark (``--dataset jarvis-phonon``), the Materials Project phonon
set (``--dataset mp-phonon``) or the phonondb set (``--dataset phonondb``, built by
``scripts/make_phonondb.py``): evaluates the model on the validation materials that have
structures, prints per-spectrum MAE (the leaderboard's multi-MAE), R2, MSE and Wasserstein
distance for the model, the mean training spectrum and the composition-only nearest-neighbour
regressor (k chosen on the same validation spectra, which can only flatter the baseline), lists
the worst materials, and writes leaderboard-format CSV (``id,target,prediction``, values joined
by ``;``): validation with targets, test with an empty target column (the test spectra are held
back for independent scoring; phonondb test materials come from the primitive cells of
``data/phonondb/test-structures.jsonl.gz``). A model on another grid (the joint ``phdos`` on
phdos221) is scored on the data set's own grid and normalization: its spectrum is moved there
conserving area and renormalized, as ``crystaldos predict --grid`` does.

Train first with ``crystaldos train --config configs/jarvis-phdos.yaml`` (or mp-phdos), then:

    python benchmarks/phdos_accuracy.py --dataset jarvis-phonon --model runs/jarvis-phdos
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from crystaldos.datasets.base import DOSRecord
from crystaldos.datasets.named import load_dataset
from crystaldos.evaluation.baselines import compare_with_baselines
from crystaldos.evaluation.metrics import mae_per_spectrum
from crystaldos.evaluation.xtal2dos_protocol import xtal2dos_metrics
from crystaldos.pretrained import load_pretrained


def phonondb_test_structures(path: Path = Path("data/phonondb/test-structures.jsonl.gz"),
                             ) -> list[DOSRecord]:
    """The phonondb test materials' primitive cells (structures only; spectra held back)."""
    import gzip

    from crystaldos.structures.readers import from_arrays

    if not path.is_file():
        return []
    with gzip.open(path, "rt") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [DOSRecord(r["id"], from_arrays(r["lattice"], r["species"],
                                           frac_coords=r["frac_coords"], id=r["id"],
                                           source=f"{path}:{r['id']}"), None, "test")
            for r in rows]


def pipeline_spectra(bundle, crystals: list, grid, normalization: str) -> np.ndarray:
    """(n, grid.count) spectra of ``crystals`` (each with a unique source) on ``grid`` in
    ``normalization``; any failure is an error, so rows stay aligned with the crystals."""
    from crystaldos.prediction import PredictionPipeline
    from crystaldos.prediction.schema import Failure

    pipeline = PredictionPipeline(bundle, grid=grid, normalization=normalization)
    rows = list(pipeline.run(crystals))
    failed = [r for r in rows if isinstance(r, Failure)]
    if failed or len(rows) != len(crystals):
        raise SystemExit(f"error: {len(failed)} structures failed (first: {failed[:1]})")
    return np.array([r.dos for r in rows]).reshape(len(rows), grid.count)


def write_leaderboard_csv(path: Path, ids: list[str], pred: np.ndarray,
                          true: np.ndarray | None) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "target", "prediction"])
        for k, ident in enumerate(ids):
            target = "" if true is None else ";".join(f"{v:.6g}" for v in true[k])
            w.writerow([ident, target, ";".join(f"{v:.6g}" for v in pred[k])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["jarvis-phonon", "mp-phonon", "phonondb"],
                        required=True)
    parser.add_argument("--model", required=True, help="model directory or bundled name")
    parser.add_argument("--output", default=None, help="folder for CSV/JSON (default: "
                        "benchmarks/results_<model name>)")
    args = parser.parse_args()

    bundle = load_pretrained(args.model)
    dataset = load_dataset(args.dataset).with_structures()
    train = dataset.split("train").with_spectra()
    val = dataset.split("val").with_spectra()
    test = phonondb_test_structures() if args.dataset == "phonondb" else dataset.split("test")
    grid = dataset.grid

    def predict(part):
        """Predictions on the data set's grid and in its normalization, through the same
        pipeline as ``crystaldos predict --grid`` (moved conserving area, rescaled by shape)."""
        return pipeline_spectra(bundle, [r.crystal for r in part], grid, dataset.normalization)

    true = val.spectra()
    pred = predict(val)
    metrics, preds = compare_with_baselines(pred, true, grid, [r.crystal for r in train],
                                            train.spectra(), [r.crystal for r in val])
    k = metrics["composition_knn"]["k"]
    knn_pred = preds["composition_knn"]
    rows = {"model": metrics["model"],
            "mean training spectrum": metrics["mean_spectrum"],
            f"composition kNN (k={k})": metrics["composition_knn"]}
    print(f"{bundle.name} on {dataset.name} validation: {len(val)} spectra with structures, "
          f"{len(train)} training materials")
    print(f"{'predictor':26s} {'multi-MAE':>10s} {'R2':>7s} {'MSE':>9s} {'W1 (cm^-1)':>11s}")
    for name, m in rows.items():
        print(f"{name:26s} {m['mae']:10.4f} {m['r2_mean']:7.3f} {m['mse']:9.5f} "
              f"{m['wasserstein']:11.2f}")

    protocol = {name: xtal2dos_metrics(preds[key], true) for name, key in (
        ("model", "model"), ("mean training spectrum", "mean_spectrum"),
        (f"composition kNN (k={k})", "composition_knn"))}
    print("Xtal2DoS protocol (unit-sum spectra, WD in bins x 0.0625):")
    print(f"{'predictor':26s} {'R2':>7s} {'MAE':>9s} {'MSE':>10s} {'WD':>7s}")
    for name, m in protocol.items():
        print(f"{name:26s} {m['r2']:7.3f} {m['mae']:9.5f} {m['mse']:10.6f} {m['wd']:7.4f}")

    per = mae_per_spectrum(pred, true)
    per_knn = mae_per_spectrum(knn_pred, true)
    print(f"model better than composition kNN on {np.mean(per < per_knn):.0%} of materials; "
          f"median per-material MAE {np.median(per):.4f}")
    order = np.argsort(per)[::-1][:8]
    print("worst materials:", ", ".join(
        f"{val.records[i].id} {val.records[i].crystal.formula} {per[i]:.3f}" for i in order))

    out = Path(args.output or Path(__file__).parent / f"results_{bundle.name}"
               / (args.dataset if bundle.grid != grid or args.dataset == "phonondb" else ""))
    out.mkdir(parents=True, exist_ok=True)
    write_leaderboard_csv(out / "val_predictions.csv", val.ids, pred, true)
    test_pred = predict(test) if len(test) else np.zeros((0, grid.count))
    write_leaderboard_csv(out / "test_predictions.csv", [r.id for r in test], test_pred, None)
    (out / "metrics.json").write_text(json.dumps({
        "model": bundle.name, "dataset": dataset.name, "split": "val", "n_val": len(val),
        "n_train": len(train), "metrics": rows, "xtal2dos_protocol": protocol,
        "share_better_than_composition_knn": float(np.mean(per < per_knn))}, indent=1) + "\n")
    print(f"wrote {out}/val_predictions.csv, test_predictions.csv ({len(test)} ids), "
          "metrics.json")


if __name__ == "__main__":
    main()
