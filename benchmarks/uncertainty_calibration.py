"""Calibration of a deep ensemble's uncertainty on validation spectra.

    python benchmarks/uncertainty_calibration.py --model runs/mp-phdos-ens --dataset mp-phonon \
        --write-card
    python benchmarks/uncertainty_calibration.py --model runs/pbe-edos-v7 --dataset dft-edos \
        --data runs/dft_edos.jsonl --write-card

For every validation material of the data set: the ensemble's mean spectrum, its per-bin spread
and the spread of Cv, S (300 K, per formula unit and per mole of atoms) and the Debye
temperature over members (an electronic set, ``dft-edos``: spectra per valence electron and the
DOS at E_F), against the DFT spectrum and the properties derived from it. Measures

* coverage of Gaussian 68 % and 95 % intervals (mean +- 1 and 1.96 calibrated sigma) of the DOS
  bins and each property. The scale that turns the raw member spread into a calibrated sigma is
  fitted on one half of the validation materials and the coverage counted on the other half
  (two-fold cross-fitting, so no coverage is measured on the materials it was fitted on);
* the Spearman rank correlation between predicted spread and actual error per material (mean
  spread of the bins against the MAE of the spectrum; property spread against its error);
* a reliability curve (expected against observed coverage) in reliability.png;
* the same rank correlation for the composition out-of-domain score (``ood_score``).

With ``--write-card`` the scales fitted on all validation materials go into the model card
(``uncertainty``), which the prediction pipeline applies. Writes calibration.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm, spearmanr

from crystaldos.physics.cell import CellInfo
from crystaldos.physics.properties import properties_for, thermal_column
from crystaldos.physics.units import PER_MOL, PER_MOL_ATOMS

T = 300.0
PROPERTIES = (thermal_column("cv", PER_MOL, T), thermal_column("s", PER_MOL, T),
              thermal_column("cv", PER_MOL_ATOMS, T), thermal_column("s", PER_MOL_ATOMS, T),
              "debye_temperature_K")
#: the calibrated properties of an electronic ensemble (the gap and the metal probability come
#: from gap trees, one model, with their own intervals)
ELECTRONIC_PROPERTIES = ("dos_at_fermi_states_per_eV",)
LEVELS = (0.68, 0.95)


def fitted_scale(z: np.ndarray, level: float = 0.95) -> float:
    """The factor s with P(|error| <= norm quantile(level) * s * sigma) = level on ``z`` =
    |error| / sigma."""
    z = z[np.isfinite(z)]
    return float(np.quantile(z, level) / norm.ppf(0.5 + level / 2)) if z.size else 1.0


def coverage(z: np.ndarray, scale: float, level: float) -> float:
    z = z[np.isfinite(z)]
    return float(np.mean(z <= norm.ppf(0.5 + level / 2) * scale)) if z.size else float("nan")


def cross_fitted(z_by_material: list[np.ndarray], levels: tuple[float, ...] = LEVELS,
                 curve: np.ndarray | None = None) -> dict[str, Any]:
    """Coverage at ``levels`` with the scale fitted on the other half of the materials."""
    idx = np.arange(len(z_by_material))
    folds = [idx % 2 == 0, idx % 2 == 1]
    extra = [] if curve is None else [float(c) for c in curve]
    hits: dict[float, list[np.ndarray]] = {lv: [] for lv in (*levels, *extra)}
    scales = []
    for k, held in enumerate(folds):
        fit = np.concatenate([z_by_material[i] for i in idx[folds[1 - k]]])
        test = np.concatenate([z_by_material[i] for i in idx[held]])
        s = fitted_scale(fit)
        scales.append(s)
        test = test[np.isfinite(test)]
        for lv in hits:
            hits[lv].append(test <= norm.ppf(0.5 + lv / 2) * s)
    out = {f"coverage_{round(lv * 100)}": float(np.mean(np.concatenate(hits[lv])))
           for lv in levels}
    out["fold_scales"] = scales
    if curve is not None:
        out["curve"] = [float(np.mean(np.concatenate(hits[lv]))) for lv in curve]
    return out


def main() -> None:
    from crystaldos.datasets.shared import load_jarvis_phonon_benchmark, load_mp_phonon
    from crystaldos.models.saving import CARD_FILE, load_model
    from crystaldos.prediction.pipeline import PredictionPipeline
    from crystaldos.prediction.schema import Failure
    from crystaldos.safe_io import atomic_write_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="an ensemble directory")
    parser.add_argument("--dataset", choices=["mp-phonon", "jarvis-phonon", "dft-edos"],
                        default="mp-phonon")
    parser.add_argument("--data", type=Path, default=None,
                        help="with --dataset dft-edos: an assembled DFT eDOS set "
                        "(scripts/make_dft_edos.py --assemble)")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--write-card", action="store_true")
    args = parser.parse_args()
    start = time.time()
    out = args.output or Path(__file__).parent / f"results_uncertainty_{args.dataset}"
    out.mkdir(parents=True, exist_ok=True)

    bundle = load_model(args.model)
    if bundle.card["model_class"] != "DeepEnsemble":
        raise SystemExit(f"{args.model}: not an ensemble (model class "
                         f"{bundle.card['model_class']})")
    bundle.card = {k: v for k, v in bundle.card.items() if k != "uncertainty"}  # raw spreads
    if args.dataset == "dft-edos":
        from crystaldos.datasets.jsonl import load_jsonl
        from crystaldos.errors import DatasetError
        from crystaldos.training.trainer import dataset_targets

        if args.data is None:
            raise SystemExit("--dataset dft-edos needs --data (an assembled DFT eDOS set)")
        try:
            dataset = load_jsonl(args.data).with_structures().with_spectra()
        except DatasetError as err:
            raise SystemExit(f"error: {err}") from None
        normalization, properties = "valence", ELECTRONIC_PROPERTIES
        val_set = dataset.split("val")
        truths = dataset_targets(val_set, normalization)
    else:
        dataset = (load_mp_phonon() if args.dataset == "mp-phonon" else
                   load_jarvis_phonon_benchmark()).with_structures().with_spectra()
        normalization, properties = dataset.normalization, PROPERTIES
        val_set = dataset.split("val")
        truths = {r.id: r.dos for r in val_set.records}
    val = val_set.records
    grid = dataset.grid
    pipeline = PredictionPipeline(bundle, normalization=normalization,
                                  grid=None if bundle.grid == grid else grid, properties=True,
                                  temperatures=[T])
    rows = list(pipeline.run([r.crystal for r in val]))
    if any(isinstance(r, Failure) for r in rows):
        raise SystemExit("a validation structure failed")

    z_bins, spread_mean, mae, ood = [], [], [], []
    z_prop: dict[str, list[np.ndarray]] = {p: [] for p in properties}
    err_prop: dict[str, list[float]] = {p: [] for p in properties}
    std_prop: dict[str, list[float]] = {p: [] for p in properties}
    for rec, row in zip(val, rows, strict=True):
        truth = np.asarray(truths[rec.id], dtype=np.float64)
        err = np.abs(row.dos - truth)
        sigma = row.spread.values
        z_bins.append(np.where(sigma > 0, err / np.where(sigma > 0, sigma, 1), np.nan))
        spread_mean.append(float(sigma.mean()))
        ood.append(row.values["ood_score"] if row.values["ood_score"] is not None else np.nan)
        mae.append(float(err.mean()))
        ref = properties_for(grid.kind, grid, truth, normalization,
                             CellInfo.from_crystal(rec.crystal), [T])
        for p in properties:
            e = abs(float(row.values[p]) - float(ref[p])) if row.values[p] is not None and \
                ref[p] is not None and np.isfinite(ref[p]) else np.nan
            sd = row.values.get(f"{p}_std")
            sd = float(sd) if sd is not None else np.nan
            z_prop[p].append(np.array([e / sd if sd > 0 else np.nan]))
            err_prop[p].append(e)
            std_prop[p].append(sd)

    curve_levels = np.round(np.arange(0.05, 1.0, 0.05), 2)
    result: dict[str, Any] = {"model": str(args.model), "dataset": args.dataset,
                              "n_val": len(val), "members": bundle.card["init_args"]["n_members"]}
    result["dos_bins"] = {"scale": fitted_scale(np.concatenate(z_bins)),
                          **cross_fitted(z_bins, curve=curve_levels),
                          "spearman_spread_vs_mae": float(spearmanr(spread_mean, mae)[0]),
                          "mean_mae": float(np.mean(mae))}
    result["properties"] = {}
    for p in properties:
        e, sd = np.array(err_prop[p]), np.array(std_prop[p])
        ok = np.isfinite(e) & np.isfinite(sd)
        result["properties"][p] = {
            "scale": fitted_scale(np.concatenate(z_prop[p])),
            **cross_fitted(z_prop[p], curve=curve_levels),
            "spearman_std_vs_error": float(spearmanr(sd[ok], e[ok])[0]),
            "mae": float(np.nanmean(e)), "n": int(ok.sum())}
    ood_arr = np.array(ood, dtype=float)
    if np.isfinite(ood_arr).all():  # the composition out-of-domain score as a trust measure
        first_err = np.array(err_prop[properties[0]])
        ok = np.isfinite(first_err)
        result["ood_score"] = {
            "median": float(np.median(ood_arr)), "max": float(ood_arr.max()),
            "spearman_vs_mae": float(spearmanr(ood_arr, mae)[0]),
            f"spearman_vs_{properties[0]}_error": float(spearmanr(ood_arr[ok],
                                                                  first_err[ok])[0])}
    result["curve_levels"] = curve_levels.tolist()
    result["seconds"] = round(time.time() - start, 1)
    atomic_write_text(out / "calibration.json", json.dumps(result, indent=1) + "\n")
    reliability_plot(out / "reliability.png", result)
    if args.write_card:
        card_path = args.model / CARD_FILE
        card = json.loads(card_path.read_text())
        card["uncertainty"] = {
            "dos_scale": result["dos_bins"]["scale"],
            "property_scale": {p: v["scale"] for p, v in result["properties"].items()},
            "fitted_on": f"{args.dataset} validation ({len(val)} materials), 95 % level",
            "command": f"python benchmarks/uncertainty_calibration.py --model {args.model} "
                       f"--dataset {args.dataset}"
                       + (f" --data {args.data}" if args.data else "") + " --write-card"}
        atomic_write_text(card_path, json.dumps(card, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "curve_levels"}, indent=1))


def reliability_plot(path: Path, result: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = result["curve_levels"]
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="ideal")
    ax.plot(levels, result["dos_bins"]["curve"], "o-", ms=3, label="DOS bins")
    for p in list(result["properties"])[:2]:
        ax.plot(levels, result["properties"][p]["curve"], "s-", ms=3, label=p)
    ax.set_xlabel("expected coverage (Gaussian interval)")
    ax.set_ylabel("observed coverage (cross-fitted scale)")
    ax.set_title(f"{result['dataset']} validation, {result['members']}-member ensemble",
                 fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    main()
