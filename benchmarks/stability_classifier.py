"""Dynamical stability on JARVIS validation: from the predicted DOS, and from a direct network.

    python benchmarks/stability_classifier.py --epochs 80

A material is unstable when more than 10 % of its phonon modes are imaginary (the package's
rule, as in the JARVIS/ALIGNN stability classifier). Compared on the JARVIS phonon benchmark's
validation materials, with the DFT DOS as the truth:

* the DOS routes: the share of imaginary modes of the spectrum predicted by bundled models
  (phdos, jarvis-phdos) and of the two baselines (mean training spectrum, composition kNN);
* a direct network (the fast-wide ALIGNN size) regressing log10(share + 0.001) of the training
  materials, selected on validation MAE, classified with the same 10 % rule (no threshold is
  tuned on validation); its precision-recall curve over thresholds is plotted for reference.

Reports accuracy, precision and recall for stable and for unstable. Writes
benchmarks/results_stability/metrics.json and pr_curve.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

THRESHOLD = 0.10
OFFSET = 1e-3


def confusion(pred_unstable: np.ndarray, true_unstable: np.ndarray) -> dict[str, float]:
    tp = int(np.sum(pred_unstable & true_unstable))
    fp = int(np.sum(pred_unstable & ~true_unstable))
    fn = int(np.sum(~pred_unstable & true_unstable))
    tn = int(np.sum(~pred_unstable & ~true_unstable))
    div = lambda a, b: a / b if b else float("nan")  # noqa: E731
    return {"n": len(true_unstable), "accuracy": div(tp + tn, len(true_unstable)),
            "precision_unstable": div(tp, tp + fp), "recall_unstable": div(tp, tp + fn),
            "precision_stable": div(tn, tn + fn), "recall_stable": div(tn, tn + fp),
            "true_unstable_pred_unstable": tp, "true_stable_pred_unstable": fp,
            "true_unstable_pred_stable": fn, "true_stable_pred_stable": tn}


def main() -> None:
    from crystaldos.datasets.shared import load_jarvis_phonon_benchmark
    from crystaldos.evaluation.baselines import compare_with_baselines
    from crystaldos.physics.phonon import modes_from_dos, negative_mode_fraction
    from crystaldos.prediction.pipeline import PredictionPipeline
    from crystaldos.pretrained import load_pretrained
    from crystaldos.training.data import graphs_with_targets
    from crystaldos.training.scalar import train_scalar_regressor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--patience", type=int, default=30)
    parser.add_argument("--models", nargs="*", default=["phdos", "jarvis-phdos"])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results_stability")
    args = parser.parse_args()
    start = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    data = load_jarvis_phonon_benchmark().with_structures().with_spectra()
    train, val = data.split("train").records, data.split("val").records
    grid = data.grid

    def share(spectra: np.ndarray) -> np.ndarray:
        return np.array([negative_mode_fraction(modes_from_dos(grid, y, 1)) for y in spectra])

    train_spectra = np.stack([r.dos for r in train])
    val_spectra = np.stack([r.dos for r in val])
    truth = share(val_spectra) > THRESHOLD
    routes: dict[str, np.ndarray] = {}
    for name in args.models:
        rows = list(PredictionPipeline(load_pretrained(name), normalization=data.normalization,
                                       grid=grid).run([r.crystal for r in val]))
        routes[f"dos:{name}"] = share(np.stack([row.dos for row in rows]))
    _, base = compare_with_baselines(val_spectra, val_spectra, grid, [r.crystal for r in train],
                                     train_spectra, [r.crystal for r in val])
    routes["dos:mean_spectrum"] = share(base["mean_spectrum"])
    routes["dos:composition_knn"] = share(base["composition_knn"])

    targets = {r.id: np.array([np.log10(s + OFFSET)]) for r, s in
               zip(train + val, np.concatenate([share(train_spectra), share(val_spectra)]),
                   strict=True)}
    t0 = time.time()
    reg = train_scalar_regressor(train, val, targets, ["log_share"], preset="fast-wide",
                                 epochs=args.epochs, patience=args.patience)
    direct_seconds = time.time() - t0
    out = reg.predict_graphs(graphs_with_targets(val, reg.graph_settings))[:, 0]
    routes["direct"] = np.clip(10 ** out - OFFSET, 0, 1)

    metrics = {"threshold": THRESHOLD, "n_val": len(val),
               "unstable_share_val": float(truth.mean()),
               "routes": {k: confusion(v > THRESHOLD, truth) for k, v in routes.items()},
               "direct": {"epochs_run": reg.epochs_run, "seconds": round(direct_seconds, 1),
                          "preset": "fast-wide"},
               "seconds": round(time.time() - start, 1)}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    pr_curve(args.out / "pr_curve.png", routes, truth)
    for name, m in metrics["routes"].items():
        print(f"{name:>24s}  accuracy {m['accuracy']:.3f}  unstable: precision "
              f"{m['precision_unstable']:.3f} recall {m['recall_unstable']:.3f}   stable: "
              f"precision {m['precision_stable']:.3f} recall {m['recall_stable']:.3f}")


def pr_curve(path: Path, routes: dict[str, np.ndarray], truth: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    for name, score in routes.items():
        precision, recall = [], []
        for t in np.unique(score):
            pred = score >= t
            if pred.sum() == 0:
                continue
            precision.append(float(np.mean(truth[pred])))
            recall.append(float(np.sum(pred & truth) / max(truth.sum(), 1)))
        ax.plot(recall, precision, ".-", ms=2, lw=1, label=name)
    ax.axhline(0.6, color="grey", lw=0.6, ls=":")
    ax.axvline(0.6, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("recall (unstable)")
    ax.set_ylabel("precision (unstable)")
    ax.set_title("JARVIS validation: unstable materials", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    main()
