"""The studies of the ALIGNN eDOS paper on the GFN2-xTB reference eDOS set.

Every error stands beside the mean training spectrum and the composition-only nearest-neighbour
regressor (k chosen on the same spectra, which can only flatter it), on the same test spectra
(the split of ``scripts/make_xtb_edos.py --assemble``; models were selected on validation).

* Table I: discretized output (``--direct``) against autoencoder-latent output (``--ae``, one model
  per latent size), MAE in states/eV per valence electron, with the autoencoders' own
  reconstruction error.
* Per-material MAE histogram with quartiles and one example spectrum per quartile; relative-error
  histogram; error by crystal system; error against how often a material's elements occur in
  training; DOS at the Fermi level; band gaps from the predicted DOS (against the same procedure
  on the reference DOS, and against the xTB HOMO-LUMO gap); a periodic-table heat map of the mean
  predicted band gap of the binary compounds among all 5,278 shared structures.

    python benchmarks/edos_study.py --data runs/xtb_edos/xtb_edos.jsonl --direct runs/xtb-edos \\
        --ae runs/xtb-edos-ae8 runs/xtb-edos-ae12 runs/xtb-edos-ae16 runs/xtb-edos-ae20 \\
        --out benchmarks/results_xtb_edos
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from crystaldos.datasets.jsonl import load_jsonl
from crystaldos.evaluation.baselines import CompositionKNNBaseline, MeanSpectrumBaseline
from crystaldos.evaluation.metrics import (
    mae_per_spectrum,
    r2_per_spectrum,
    relative_error_per_spectrum,
    spectrum_metrics,
)
from crystaldos.graphs.crystal_graph import build_graph
from crystaldos.physics.electronic import band_gap, dos_at_energy
from crystaldos.plotting import element_means, periodic_table_heatmap, spectra_panels
from crystaldos.prediction.engine import predict_graphs
from crystaldos.pretrained import load_pretrained

SPIN_UP_NOTE = ("JARVIS edos_up (the paper's data) is the spin-up DOS per valence electron, half "
                "of the total DOS per valence electron used here: divide our MAEs by 2 to put "
                "them in the paper's units.")


def predict(bundle, crystals) -> np.ndarray:
    graphs = [build_graph(c, bundle.graph_settings) for c in crystals]
    return predict_graphs(bundle.model, graphs).astype(np.float64)


def gaps_of(grid, spectra: np.ndarray) -> np.ndarray:
    return np.array([band_gap(grid, np.clip(y, 0, None)).gap if np.max(y) > 0 else np.nan
                     for y in spectra])


def crystal_system(crystal) -> str:
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        return SpacegroupAnalyzer(crystal.to_pymatgen(), symprec=0.1).get_crystal_system()
    except Exception as err:  # spglib fails on a few distorted cells; report, don't hide
        return f"unknown ({type(err).__name__})"


def r2(pred: np.ndarray, true: np.ndarray) -> float:
    """R2 of one set of scalars (the per-spectrum R2 of a single 'spectrum')."""
    return float(r2_per_spectrum(pred[None], true[None])[0])


def histogram_figure(values: np.ndarray, path: Path, xlabel: str, quartiles: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.hist(values, bins=50, color="tab:blue", alpha=0.8)
    if quartiles:
        for q, style in zip(np.percentile(values, [25, 50, 75]), (":", "--", ":"), strict=True):
            ax.axvline(q, color="black", ls=style, lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("materials")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def bar_figure(by_group: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(by_group)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(x - 0.2, [by_group[n]["mae"] for n in names], 0.4, label="model")
    ax.bar(x + 0.2, [by_group[n]["mean_spectrum_mae"] for n in names], 0.4,
           label="mean spectrum", color="grey")
    ax.set_xticks(x, [f"{n}\n(n={by_group[n]['n']})" for n in names], fontsize=7)
    ax.set_ylabel("mean per-material MAE")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def frequency_figure(points: dict, path: Path) -> None:
    """Per element: (training materials containing it, mean test MAE of materials with it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.4))
    for symbol, (count, error) in points.items():
        ax.scatter(max(count, 0.8), error, s=8, color="tab:blue")
        ax.annotate(symbol, (max(count, 0.8), error), fontsize=6)
    ax.set_xscale("log")
    ax.set_xlabel("training materials containing the element")
    ax.set_ylabel("mean test MAE of materials with it")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def parity_figure(pred: np.ndarray, true: np.ndarray, path: Path, label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.8, 3.6))
    ax.scatter(true, pred, s=6, alpha=0.5)
    top = float(np.nanmax([np.nanmax(true), np.nanmax(pred)]))
    ax.plot([0, top], [0, top], color="black", lw=0.8)
    ax.set_xlabel(f"reference {label}")
    ax.set_ylabel(f"predicted {label}")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--direct", required=True, help="discretized-output model")
    parser.add_argument("--ae", nargs="*", default=[], help="AE-latent models")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--main", default=None,
                        help="model (one of --direct/--ae) for the per-material analyses and "
                             "the heat map; default: the lowest validation MAE in its card")
    parser.add_argument("--skip-heatmap", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    dataset = load_jsonl(args.data)
    grid = dataset.grid
    train, val, test = (dataset.split(s).with_spectra() for s in ("train", "val", "test"))
    train_x, test_x = [r.crystal for r in train], [r.crystal for r in test]
    train_y, true = train.spectra(), test.spectra()
    print(f"{args.data}: {len(train)} train, {len(val)} val, {len(test)} test spectra; "
          f"grid {grid.start:g}..{grid.stop:g} eV x {grid.count}")

    mean_pred = MeanSpectrumBaseline().fit(train_y).predict(len(test))
    knn = CompositionKNNBaseline().fit(train_x, train_y)
    k = knn.select_k(test_x, true)
    knn_pred = knn.predict(test_x)
    results: dict = {"n": {"train": len(train), "val": len(val), "test": len(test)},
                     "unit": "states/eV per valence electron (total, both spins)",
                     "note": SPIN_UP_NOTE, "knn_k": k, "table": {}}
    preds = {"mean training spectrum": mean_pred, f"composition kNN (k={k})": knn_pred}
    table = results["table"]
    for name, y in preds.items():
        table[name] = spectrum_metrics(y, true, grid)

    bundles = {"discretized (300 outputs)": load_pretrained(args.direct)}
    paths = {"discretized (300 outputs)": args.direct}
    for path in args.ae:
        bundle = load_pretrained(path)
        latent = bundle.card.get("init_args", {}).get("autoencoder", {}).get("latent", path)
        bundles[f"AE latent {latent}"] = bundle
        paths[f"AE latent {latent}"] = path
    if args.main is None:
        main_name = min(bundles, key=lambda n: bundles[n].card["validation"]["model"]["mae"])
    else:
        main_name = next(n for n, p in paths.items() if p == args.main)
    results["main_model"] = main_name
    for name, bundle in bundles.items():
        y = predict(bundle, test_x)
        preds[name] = y
        row = spectrum_metrics(y, true, grid)
        card_ae = bundle.card.get("validation", {}).get("autoencoder")
        if card_ae:
            row["ae_recon_mae_val"] = card_ae.get("recon_mae_val")
        table[name] = row

    print("\nTable I analogue (test split), MAE states/eV/electron [÷2 = paper's units]:")
    print(f"  {'model':32s} {'MAE':>8s} {'MAE/2':>8s} {'R2':>7s} {'W1 eV':>7s} {'AE recon':>9s}")
    for name, row in table.items():
        recon = row.get("ae_recon_mae_val")
        print(f"  {name:32s} {row['mae']:8.4f} {row['mae'] / 2:8.4f} {row['r2_mean']:7.3f} "
              f"{row['wasserstein']:7.3f} {'' if recon is None else f'{recon:9.4f}'}")

    direct = preds[main_name]  # the per-material analyses use the selected model
    per = mae_per_spectrum(direct, true)
    quart = np.percentile(per, [25, 50, 75])
    results["per_material_mae"] = {"mean": float(per.mean()), "q1": float(quart[0]),
                                   "median": float(quart[1]), "q3": float(quart[2]),
                                   "max": float(per.max())}
    histogram_figure(per, args.out / "mae_histogram.png", "per-material MAE (states/eV/e)", True)
    edges = [per.min(), *quart, per.max()]
    panels = []
    for q in range(4):
        inside = np.flatnonzero((per >= edges[q]) & (per <= edges[q + 1]))
        middle = 0.5 * (edges[q] + edges[q + 1])
        pick = inside[np.argmin(np.abs(per[inside] - middle))]
        panels.append((f"Q{q + 1}: {test[pick].crystal.formula} (MAE {per[pick]:.3f})",
                       {"xTB": true[pick], "predicted": direct[pick],
                        "mean spectrum": mean_pred[pick]}))
    spectra_panels(grid.points, panels, args.out / "quartile_examples.png",
                   ylabel="DOS (states/eV/e)")
    rel = relative_error_per_spectrum(direct, true)
    results["relative_error"] = {"mean": float(rel.mean()), "median": float(np.median(rel))}
    histogram_figure(rel, args.out / "relative_error_histogram.png",
                     "per-material relative error", True)

    systems = [crystal_system(c) for c in test_x]
    by_system = defaultdict(list)
    for s, e, eb in zip(systems, per, mae_per_spectrum(mean_pred, true), strict=True):
        by_system[s].append((e, eb))
    results["by_crystal_system"] = {
        s: {"n": len(v), "mae": float(np.mean([a for a, _ in v])),
            "mean_spectrum_mae": float(np.mean([b for _, b in v]))}
        for s, v in sorted(by_system.items(), key=lambda kv: -len(kv[1]))}

    bar_figure(results["by_crystal_system"], args.out / "mae_by_crystal_system.png")

    freq = Counter(sym for c in train_x for sym in set(c.species))
    min_freq = np.array([min(freq.get(s, 0) for s in set(c.species)) for c in test_x])
    bins = [0, 10, 30, 100, 300, 10**9]
    results["by_element_frequency"] = []
    for lo, hi in itertools.pairwise(bins):
        m = (min_freq >= lo) & (min_freq < hi)
        if m.any():
            results["by_element_frequency"].append(
                {"rarest_element_train_count": f"{lo}-{hi - 1}" if hi < 10**9 else f">={lo}",
                 "n": int(m.sum()), "mae": float(per[m].mean()),
                 "mean_spectrum_mae": float(mae_per_spectrum(mean_pred[m], true[m]).mean())})
    from scipy.stats import spearmanr

    results["element_frequency_spearman"] = float(spearmanr(min_freq, per).statistic)
    element_errors = element_means([c.species for c in test_x], per)
    frequency_figure({s: (freq.get(s, 0), m) for s, (m, _) in element_errors.items()},
                     args.out / "mae_vs_element_frequency.png")

    efermi = {name: np.array([dos_at_energy(grid, y, 0.0) for y in p])
              for name, p in preds.items()}
    true_ef = np.array([dos_at_energy(grid, y, 0.0) for y in true])
    results["dos_at_fermi"] = {name: {"mae": float(np.abs(v - true_ef).mean()),
                                      "r2": r2(v, true_ef)} for name, v in efermi.items()}
    parity_figure(efermi[main_name], true_ef, args.out / "dos_at_fermi.png",
                  "DOS(E=0)")

    ref_gap = gaps_of(grid, true)
    xtb_gap = np.array([r.meta.get("xtb_gap", np.nan) for r in test])
    results["band_gap"] = {}
    for name, p in preds.items():
        g = gaps_of(grid, p)
        results["band_gap"][name] = {
            "mae_vs_reference_dos_gap": float(np.nanmean(np.abs(g - ref_gap))),
            "metal_accuracy": float(np.mean((g == 0) == (ref_gap == 0))),
            "mae_vs_xtb_homo_lumo": float(np.nanmean(np.abs(g - xtb_gap)))}
    results["band_gap"]["reference DOS itself"] = {
        "mae_vs_xtb_homo_lumo": float(np.nanmean(np.abs(ref_gap - xtb_gap))),
        "share_metallic": float(np.mean(ref_gap == 0))}
    parity_figure(gaps_of(grid, direct), ref_gap, args.out / "band_gap_parity.png", "gap (eV)")

    if not args.skip_heatmap:
        from crystaldos.datasets.shared import load_jarvis_phonon_benchmark, load_mp_phonon

        crystals = [r.crystal for r in load_jarvis_phonon_benchmark(structures="dft3d")
                    if r.crystal is not None] + [r.crystal for r in load_mp_phonon()]
        binaries = [c for c in crystals if len(set(c.species)) == 2]
        t0 = time.perf_counter()
        gaps = gaps_of(grid, predict(bundles[main_name], binaries))
        seconds = time.perf_counter() - t0
        means = element_means([c.species for c in binaries], gaps)
        periodic_table_heatmap({s: m for s, (m, _) in means.items()},
                               args.out / "binary_gap_heatmap.png",
                               title=f"Mean predicted band gap of {len(binaries)} binary "
                                     f"compounds ({main_name})",
                               label="band gap from the predicted DOS (eV)",
                               counts={s: n for s, (_, n) in means.items()})
        results["heatmap"] = {"binaries": len(binaries), "predict_and_gap_seconds": seconds,
                              "share_metallic": float(np.mean(gaps == 0)),
                              "by_element": {s: [m, n] for s, (m, n) in sorted(means.items())}}

    results["seconds"] = time.perf_counter() - start
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nper-material analyses with {main_name} (lowest validation MAE)")
    print("per-material MAE quartiles:", {k: round(v, 4) for k, v in
                                            results["per_material_mae"].items()})
    print("relative error:", results["relative_error"])
    print("by crystal system:", json.dumps(results["by_crystal_system"], indent=None))
    print("by rarest element's training count:", results["by_element_frequency"],
          "Spearman", round(results["element_frequency_spearman"], 3))
    print("DOS at E_F:", json.dumps(results["dos_at_fermi"]))
    print("band gaps:", json.dumps(results["band_gap"]))
    print(f"figures and results.json in {args.out} ({results['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
