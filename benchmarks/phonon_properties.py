"""Properties from the predicted phonon DOS against direct prediction and analytic models.

On the validation materials (with structures) of the Materials Project phonon set or the JARVIS
phonon benchmark, computes the reference properties from the DFT DOS and compares, per property
(Cv and S at 300 K per mole of formula units and per mole of atoms, Debye temperature, isotope
scattering rate):

* DOS-mediated: properties of the DOS predicted by a bundled model;
* the two baselines of every accuracy figure here, as DOS routes: the mean training spectrum
  and the composition-only nearest-neighbour spectrum (k chosen on these validation spectra);
* direct: a graph network of the same size trained on Cv(300 K) and S(300 K) computed from the
  training DOS, once on per-atom values (per formula unit = per atom x atoms per formula unit)
  and once on per-formula-unit values as in the literature;
* Debye and Born-von Karman models whose one parameter matches the second frequency moment of
  the *reference* DOS (an oracle input no predictor has; no elastic data is available here).

Metrics: MAE, MAE:MAD (MAD = mean absolute deviation of the reference from its mean) and R2;
for JARVIS (grid down to -300 cm^-1) the stability confusion matrix (unstable when more than 10%
of modes are imaginary) with accuracy, precision and recall. Writes metrics.json, table.md,
per_material.csv, parity.png and (JARVIS) confusion.png to the output folder.

    python benchmarks/phonon_properties.py --dataset mp-phonon --model mp-phdos
    python benchmarks/phonon_properties.py --dataset jarvis-phonon --model jarvis-phdos
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from crystaldos.datasets.shared import load_jarvis_phonon_benchmark, load_mp_phonon
from crystaldos.errors import CrystalDosError
from crystaldos.evaluation.baselines import compare_with_baselines
from crystaldos.evaluation.metrics import mae_to_mad
from crystaldos.physics.analytic import BVK, DEBYE, analytic_modes, matched_debye_temperature
from crystaldos.physics.cell import CellInfo
from crystaldos.physics.phonon import modes_from_dos, thermal_properties
from crystaldos.physics.properties import phonon_properties, thermal_column
from crystaldos.physics.units import PER_MOL, PER_MOL_ATOMS, per_basis
from crystaldos.prediction.pipeline import PredictionPipeline
from crystaldos.prediction.schema import Failure
from crystaldos.pretrained import load_pretrained
from crystaldos.training.data import graphs_with_targets
from crystaldos.training.scalar import train_scalar_regressor

T = 300.0
CV_FU, S_FU = thermal_column("cv", PER_MOL, T), thermal_column("s", PER_MOL, T)
CV_AT, S_AT = thermal_column("cv", PER_MOL_ATOMS, T), thermal_column("s", PER_MOL_ATOMS, T)
PROPERTIES = (CV_FU, S_FU, CV_AT, S_AT, "debye_temperature_K", "isotope_scattering_rate_per_s")
DOS_ROUTES = ("dos_model", "mean_spectrum", "composition_knn")
LABELS = {"dos_model": "DOS-mediated (ours)",
          "direct": "direct GNN, per-atom targets",
          "direct_extensive": "direct GNN, per-formula-unit targets",
          "debye": "Debye (oracle theta_D(2))", "bvk": "Born-von Karman (oracle moment)",
          "mean_spectrum": "mean training spectrum", "composition_knn": "composition kNN"}


def regression_metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    ok = np.isfinite(pred) & np.isfinite(true)
    p, t = pred[ok], true[ok]
    r2 = float(1 - np.sum((p - t) ** 2) / np.sum((t - t.mean()) ** 2))
    return {"n": int(ok.sum()), "mae": float(np.mean(np.abs(p - t))),
            "mad": float(np.mean(np.abs(t - t.mean()))), "mae_mad": mae_to_mad(p, t), "r2": r2}


def property_metrics(ref: dict, preds: dict, chosen: np.ndarray) -> dict[str, Any]:
    """Per property and route, on the chosen materials where every route (and the reference)
    is finite (a reference with every mode imaginary has no Debye moment)."""
    out: dict[str, Any] = {}
    for prop in PROPERTIES:
        routes = {route: np.asarray(p[prop], dtype=float) for route, p in preds.items()
                  if prop in p}
        common = chosen & np.isfinite(ref[prop]) & np.all(
            [np.isfinite(v) for v in routes.values()], axis=0)
        out[prop] = {route: regression_metrics(v[common], ref[prop][common])
                     for route, v in routes.items()}
    return out


def read_direct_predictions(path: Path, ids: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """The direct routes' columns of an earlier run's per_material.csv, in ``ids`` order."""
    with path.open() as fh:
        rows = {row["id"]: row for row in csv.DictReader(fh)}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise SystemExit(f"{path}: no rows for {len(missing)} validation ids, e.g. {missing[0]}")
    out: dict[str, dict[str, np.ndarray]] = {}
    for route in ("direct", "direct_extensive"):
        cols = {p: f"{route}_{p}" for p in (CV_FU, S_FU, CV_AT, S_AT)}
        if all(c in rows[ids[0]] for c in cols.values()):
            out[route] = {p: np.array([float(rows[i][c]) for i in ids])
                          for p, c in cols.items()}
    return out


def markdown_table(by_property: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """Markdown rows of MAE, MAE:MAD and R2 per property and route."""
    lines = ["| property | route | MAE | MAE:MAD | R2 |", "|---|---|---|---|---|"]
    for prop, by_route in by_property.items():
        for route, m in by_route.items():
            lines.append(f"| {prop} | {LABELS[route]} | {m['mae']:.4g} | {m['mae_mad']:.3f} | "
                         f"{m['r2']:.3f} |")
    return lines


def stability_metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, Any]:
    """Confusion counts with 'stable' as the positive class, and the same for 'unstable'."""
    tp = int(np.sum(pred & true))
    tn = int(np.sum(~pred & ~true))
    fp = int(np.sum(pred & ~true))
    fn = int(np.sum(~pred & true))
    div = lambda a, b: a / b if b else float("nan")  # noqa: E731
    return {"n": len(true), "true_stable_pred_stable": tp, "true_stable_pred_unstable": fn,
            "true_unstable_pred_stable": fp, "true_unstable_pred_unstable": tn,
            "accuracy": div(tp + tn, len(true)), "precision_stable": div(tp, tp + fp),
            "recall_stable": div(tp, tp + fn), "precision_unstable": div(tn, tn + fn),
            "recall_unstable": div(tn, tn + fp)}


def analytic_properties(model: str, modes_ref: Any, cell: CellInfo) -> dict[str, float]:
    try:
        theta = matched_debye_temperature(model, modes_ref, moment=2.0)
    except CrystalDosError:  # every reference mode imaginary: no moment to match
        return dict.fromkeys((CV_FU, S_FU, CV_AT, S_AT), float("nan"))
    tp = thermal_properties(analytic_modes(model, theta, cell.n_atoms), T)
    return {CV_FU: float(per_basis(tp.heat_capacity, cell, PER_MOL)[0]),
            S_FU: float(per_basis(tp.entropy, cell, PER_MOL)[0]),
            CV_AT: float(per_basis(tp.heat_capacity, cell, PER_MOL_ATOMS)[0]),
            S_AT: float(per_basis(tp.entropy, cell, PER_MOL_ATOMS)[0])}


def parity_plot(path: Path, ref: dict, preds: dict, dataset: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.4))
    panels = ((CV_AT, "Cv(300 K), J/(mol-atoms K)"), (S_AT, "S(300 K), J/(mol-atoms K)"),
              (S_FU, "S(300 K), J/(mol K) per formula unit"))
    styles = (("dos_model", "C0", "o"), ("direct", "C1", "s"), ("debye", "C2", "^"))
    for ax, (key, label) in zip(axes, panels, strict=True):
        t = ref[key]
        for route, color, marker in styles:
            ax.scatter(t, preds[route][key], s=9, alpha=0.55, color=color, marker=marker,
                       label=LABELS[route])
        lo, hi = np.nanmin(t), np.nanmax(t)
        pad = 0.05 * (hi - lo)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "k--", lw=0.8)
        ax.set_xlabel(f"reference {label}")
        ax.set_ylabel("predicted")
        ax.set_title(label, fontsize=10)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Properties from the phonon DOS, {dataset} validation")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def confusion_plot(path: Path, stats: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.array([[stats["true_stable_pred_stable"], stats["true_stable_pred_unstable"]],
                  [stats["true_unstable_pred_stable"], stats["true_unstable_pred_unstable"]]])
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    ax.imshow(m, cmap="Blues")
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, str(v), ha="center", va="center",
                color="white" if v > m.max() / 2 else "black", fontsize=13)
    ax.set_xticks([0, 1], ["stable", "unstable"])
    ax.set_yticks([0, 1], ["stable", "unstable"])
    ax.set_xlabel("from predicted DOS")
    ax.set_ylabel("from DFT DOS")
    ax.set_title(f"Dynamical stability (>10% imaginary = unstable)\naccuracy "
                 f"{stats['accuracy']:.1%}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["jarvis-phonon", "mp-phonon"], required=True)
    parser.add_argument("--model", required=True, help="bundled model name or directory")
    parser.add_argument("--epochs", type=int, default=150, help="direct model epochs")
    parser.add_argument("--patience", type=int, default=40)
    parser.add_argument("--preset", default="fast-wide", help="direct model size")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None)
    parser.add_argument("--progress", action="store_true", help="show the training progress")
    parser.add_argument("--direct-from", default=None,
                        help="reuse the direct models' predictions from an earlier run's "
                             "per_material.csv instead of training them again")
    parser.add_argument("--no-extensive", dest="extensive", action="store_false",
                        help="skip the direct model on per-formula-unit targets")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.time()
    out = Path(args.output or Path(__file__).parent / f"results_properties_{args.dataset}")
    out.mkdir(parents=True, exist_ok=True)

    bundle = load_pretrained(args.model)
    dataset = (load_jarvis_phonon_benchmark() if args.dataset == "jarvis-phonon"
               else load_mp_phonon()).with_structures().with_spectra()
    train, val = dataset.split("train").records, dataset.split("val").records
    grid = dataset.grid
    cells = {r.id: CellInfo.from_crystal(r.crystal) for r in train + val}

    # reference properties from the DFT DOS
    def props(records: list, spectra: np.ndarray) -> dict[str, np.ndarray]:
        rows = [phonon_properties(grid, y, cells[r.id], [T]) for r, y in
                zip(records, spectra, strict=True)]
        keys = (*PROPERTIES, "negative_mode_fraction")
        out_: dict[str, np.ndarray] = {k: np.array([row[k] for row in rows], dtype=float)
                                       for k in keys}
        out_["stable"] = np.array([row["stable"] for row in rows], dtype=object)
        return out_

    train_spectra = np.stack([r.dos for r in train])
    val_spectra = np.stack([r.dos for r in val])
    ref = props(val, val_spectra)
    train_ref = props(train, train_spectra)

    # DOS routes: our model, mean spectrum, composition kNN
    # through the prediction pipeline, so an ensemble gives its mean spectrum
    rows = list(PredictionPipeline(bundle, normalization=dataset.normalization,
                                   grid=None if bundle.grid == grid else grid)
                .run([r.crystal for r in val]))
    failed = [row for row in rows if isinstance(row, Failure)]
    if failed:
        raise SystemExit(f"{len(failed)} validation structures failed, e.g. {failed[0]}")
    pred_dos = np.stack([row.dos for row in rows])
    _, dos_preds = compare_with_baselines(pred_dos, val_spectra, grid,
                                          [r.crystal for r in train], train_spectra,
                                          [r.crystal for r in val])
    preds: dict[str, dict[str, np.ndarray]] = {}
    for route, key in (("dos_model", "model"), ("mean_spectrum", "mean_spectrum"),
                       ("composition_knn", "composition_knn")):
        preds[route] = props(val, dos_preds[key])

    # direct scalar models, trained on Cv and S computed from the training DOS: on per-atom
    # (intensive) values, converted per formula unit afterwards, and, as in the literature, on
    # per-formula-unit (extensive) values directly
    apf = np.array([cells[r.id].atoms_per_formula_unit for r in val], dtype=float)
    direct_info: dict[str, Any] = {}
    reused = read_direct_predictions(Path(args.direct_from), [r.id for r in val]) \
        if args.direct_from else {}
    for route, (cv_key, s_key) in (("direct", (CV_AT, S_AT)),
                                   ("direct_extensive", (CV_FU, S_FU))):
        if route in reused:
            preds[route] = reused[route]
            continue
        if route == "direct_extensive" and not args.extensive:
            continue
        targets = {r.id: np.array([train_ref[cv_key][k], train_ref[s_key][k]])
                   for k, r in enumerate(train)}
        targets.update({r.id: np.array([ref[cv_key][k], ref[s_key][k]])
                        for k, r in enumerate(val)})
        t0 = time.time()
        reg = train_scalar_regressor(train, val, targets, (cv_key, s_key), preset=args.preset,
                                     epochs=args.epochs, patience=args.patience, seed=args.seed,
                                     progress=args.progress)
        direct_info[route] = {"targets": [cv_key, s_key], "epochs_run": reg.epochs_run,
                              "seconds": round(time.time() - t0, 1)}
        out_ = reg.predict_graphs(graphs_with_targets(val, reg.graph_settings))
        if route == "direct":
            preds[route] = {CV_AT: out_[:, 0], S_AT: out_[:, 1], CV_FU: out_[:, 0] * apf,
                            S_FU: out_[:, 1] * apf}
        else:
            preds[route] = {CV_FU: out_[:, 0], S_FU: out_[:, 1], CV_AT: out_[:, 0] / apf,
                            S_AT: out_[:, 1] / apf}

    # analytic models with the reference DOS's second moment
    for name, model in (("debye", DEBYE), ("bvk", BVK)):
        rows = []
        for r, y in zip(val, val_spectra, strict=True):
            modes = modes_from_dos(grid, y, cells[r.id].n_atoms)
            rows.append(analytic_properties(model, modes, cells[r.id]))
        preds[name] = {k: np.array([row[k] for row in rows]) for k in rows[0]}

    metrics: dict[str, Any] = {"dataset": args.dataset, "model": bundle.name,
                               "n_val": len(val), "n_train": len(train), "temperature_K": T,
                               "direct": {"preset": args.preset, "max_epochs": args.epochs,
                                          "patience": args.patience, **direct_info},
                               "properties": {}}
    if args.direct_from:  # keep the record of how the reused direct models were trained
        earlier = json.loads(Path(args.direct_from).with_name("metrics.json").read_text())
        metrics["direct"] = {**earlier["direct"], "reused_from": args.direct_from}
    subsets = {"all": np.ones(len(val), dtype=bool)}
    if grid.start < 0:
        subsets["reference_stable"] = ref["stable"].astype(bool)
    for subset, chosen in subsets.items():
        metrics["properties" if subset == "all" else f"properties_{subset}"] = \
            property_metrics(ref, preds, chosen)
    if grid.start < 0:
        truth = ref["stable"].astype(bool)
        metrics["stability"] = {route: stability_metrics(preds[route]["stable"].astype(bool),
                                                         truth) for route in DOS_ROUTES}
        metrics["stability"]["reference_unstable_share"] = float(np.mean(~truth))
        confusion_plot(out / "confusion.png", metrics["stability"]["dos_model"])
    metrics["seconds"] = round(time.time() - start, 1)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    parity_plot(out / "parity.png", ref, preds, args.dataset)

    with (out / "per_material.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        cols = [(route, prop) for route in preds for prop in PROPERTIES if prop in preds[route]]
        w.writerow(["id", "formula", *(f"ref_{p}" for p in PROPERTIES),
                    *(f"{route}_{p}" for route, p in cols)])
        for k, r in enumerate(val):
            w.writerow([r.id, cells[r.id].reduced_formula,
                        *(f"{ref[p][k]:.6g}" for p in PROPERTIES),
                        *(f"{float(preds[route][p][k]):.6g}" for route, p in cols)])

    lines = [f"### {args.dataset} validation ({len(val)} materials), T = 300 K", "",
             *markdown_table(metrics["properties"])]
    if "properties_reference_stable" in metrics:
        n_stable = int(np.sum(ref["stable"].astype(bool)))
        lines += ["", f"Only the {n_stable} materials whose reference DOS is stable:", "",
                  *markdown_table(metrics["properties_reference_stable"])]
    if "stability" in metrics:
        lines += ["", "| stability from | accuracy | precision (stable) | recall (stable) | "
                  "precision (unstable) | recall (unstable) |", "|---|---|---|---|---|---|"]
        for route in DOS_ROUTES:
            s = metrics["stability"][route]
            lines.append(f"| {LABELS[route]} | {s['accuracy']:.1%} | {s['precision_stable']:.1%}"
                         f" | {s['recall_stable']:.1%} | {s['precision_unstable']:.1%} | "
                         f"{s['recall_unstable']:.1%} |")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {out} in {metrics['seconds']} s")


if __name__ == "__main__":
    main()
