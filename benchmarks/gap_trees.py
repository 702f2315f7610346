"""Metallicity and band gaps from composition and cell descriptors (the bundled ``gap-trees``).

    python scripts/make_dft_edos.py --out data/dft_edos --assemble runs/dft_edos.jsonl
    OMP_NUM_THREADS=1 python benchmarks/gap_trees.py --data runs/dft_edos.jsonl [--uip chgnet] \\
        [--bundle src/crystaldos/pretrained/gap-trees] [--new-against runs/dft_edos_706.jsonl]

Boosted trees (:class:`crystaldos.prediction.band_gap.GapTrees`) on
:func:`crystaldos.structures.descriptors.crystal_descriptors`, fitted on the train materials
of the GPAW PBE eDOS set (its val split stays clean for the DOS models that take their metal
and gap columns from these trees). The tree settings are chosen by 5-fold out-of-fold metal
accuracy (then gap MAE), averaged over three fold splits, on the train materials (printed per
source set: the JARVIS dft_3d records are the
ones drawn most like a user's crystals; the MP phonon set holds semiconductors only). The
chosen trees are then scored, never chosen, on

* the DFT set's val and test splits (gap against the eigenvalue gap, 0 for metals);
* JARVIS-50 (``jarvis_edos_sample50``, OptB88vdW): the gap of the JARVIS spectrum at E_F, as
  in ``benchmarks/edos_dft.py``;
* the known crystals of ``benchmarks/dft_reference_check.py`` at experimental lattice
  constants, against plane-wave PBE: class accuracy and the Spearman rank correlation of gaps;
* the four 3d monoxides of its ``TM_OXIDES`` (``tm_oxides_experiment``), insulators in
  experiment: class accuracy (their gaps are experimental, beyond PBE+U);

each beside the rule "every element is a metal => metal", the charge rule, the majority class
with the mean training gap, and a composition-only nearest-neighbour regressor of the gap and
metallicity (no structure; k chosen on the evaluated set, which can only flatter it).
The chosen trees carry 68 % and 95 % gap intervals
(:meth:`crystaldos.prediction.band_gap.GapTrees.with_intervals`); ``gap_intervals`` gives their
coverage and mean width on each evaluated set beside a constant-width interval (the point gap
+- the out-of-fold absolute error at that level). ``--compare`` scores earlier tree sets (the
bundled ones, say) on the same materials. A variant that also sees the number of atoms and
elements of the cell is scored out-of-fold to show why the descriptors leave cell size out.
With ``--uip chgnet`` every setting is also scored on the descriptors plus CHGNet's summary of
each crystal (:func:`crystaldos.structures.descriptors.uip_descriptors`), and the choice runs
over both. ``rule_strata`` counts the train materials and JARVIS-50 in each stratum of the two
composition rules, with their share of metals. Writes ``benchmarks/results_gap_trees/metrics.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from edos_dft import dos_gaps  # same folder: JARVIS-50 gaps read as that benchmark reads them

RESULTS = Path(__file__).parent / "results_gap_trees"
#: candidate tree settings, chosen by out-of-fold metal accuracy (then gap MAE) on train
SETTINGS = {
    "default": {},
    "shallow, slow": {"learning_rate": 0.05, "max_iter": 300, "max_depth": 3,
                      "l2_regularization": 1.0},
    "small leaves": {"max_leaf_nodes": 8, "min_samples_leaf": 10},
}


def labels(records: list) -> tuple[np.ndarray, np.ndarray]:
    """(is_metal (n,), gap eV (n,), 0 for metals) of DFT eDOS records."""
    metal = np.array([bool(r.meta["is_metal"]) for r in records])
    gap = np.array([0.0 if m else float(r.meta["band_gap"]) for r, m in
                    zip(records, metal, strict=True)])
    return metal, gap


def scores(p_metal: np.ndarray, gap: np.ndarray, true_metal: np.ndarray,
           true_gap: np.ndarray) -> dict:
    """Metal accuracy at 0.5, the Brier score of the metal probability (mean squared error
    against 0/1), gap MAE (all; gapped only), Spearman of gaps, in eV."""
    from scipy.stats import spearmanr

    error = np.abs(gap - true_gap)
    gapped = ~true_metal
    return {"metal_accuracy": round(float(np.mean((p_metal >= 0.5) == true_metal)), 4),
            "metal_brier": round(float(np.mean((p_metal - true_metal) ** 2)), 4),
            "gap_mae_eV": round(float(error.mean()), 4),
            "gap_mae_gapped_eV": round(float(error[gapped].mean()), 4) if gapped.any() else None,
            "gap_spearman": round(float(spearmanr(gap, true_gap).statistic), 4)}


def out_of_fold(x: np.ndarray, metal: np.ndarray, gap: np.ndarray, settings: dict,
                folds: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold metal probabilities and gaps (n,) of trees fitted on the other folds."""
    from sklearn.model_selection import StratifiedKFold

    from crystaldos.prediction.band_gap import GapTrees

    p = np.zeros(len(metal))
    g = np.zeros(len(metal))
    for fit, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, metal):
        trees = GapTrees.fit(x[fit], metal[fit], gap[fit], settings)
        p[held], g[held] = trees.predict_descriptors(x[held])
    return p, g


def out_of_fold_scores(x: np.ndarray, metal: np.ndarray, gap: np.ndarray, settings: dict,
                       sets: np.ndarray, seeds: int = 3) -> dict:
    """:func:`scores` out-of-fold, averaged over ``seeds`` fold splits: over all materials
    (``all``) and per source set."""
    runs = []
    for seed in range(seeds):
        p, g = out_of_fold(x, metal, gap, settings, seed=seed)
        runs.append({"all": scores(p, g, metal, gap),
                     **{s: scores(p[sets == s], g[sets == s], metal[sets == s], gap[sets == s])
                        for s in np.unique(sets)}})
    return {group: {k: (round(float(np.mean([r[group][k] for r in runs])), 4)
                        if runs[0][group][k] is not None else None) for k in runs[0][group]}
            for group in runs[0]}


def baselines(train_crystals: list, metal: np.ndarray, gap: np.ndarray, crystals: list,
              true_metal: np.ndarray, true_gap: np.ndarray) -> dict:
    """The rules, the majority class with the mean training gap, and composition kNN."""
    from crystaldos.evaluation.baselines import (
        CompositionKNNBaseline,
        charge_rule_says_metal,
        composition_says_metal,
    )

    out = {}
    for name, rule in (("composition_rule", composition_says_metal),
                       ("charge_rule", charge_rule_says_metal)):
        said = np.array([rule(c.species) for c in crystals])
        out[name] = {"metal_accuracy": round(float(np.mean(said == true_metal)), 4)}
    majority = float(metal.mean() >= 0.5)
    mean_gap = 0.0 if majority else float(gap.mean())
    out["majority_mean_gap"] = scores(np.full(len(crystals), majority),
                                      np.full(len(crystals), mean_gap), true_metal, true_gap)
    targets = np.stack([metal.astype(float), gap], axis=1)
    knn = CompositionKNNBaseline().fit(train_crystals, targets)
    k = knn.select_k(crystals, np.stack([true_metal.astype(float), true_gap], axis=1))
    pred = knn.predict(crystals)
    out["composition_knn"] = {**scores(pred[:, 0], np.where(pred[:, 0] >= 0.5, 0.0, pred[:, 1]),
                                       true_metal, true_gap), "k": k}
    return out


def interval_scores(bounds: dict, point: np.ndarray, true_gap: np.ndarray,
                    constant: dict[str, float]) -> dict:
    """Coverage (all; the gapped materials alone) and mean width (eV) of each central gap
    interval of the trees (``bounds``: the columns of :meth:`GapTrees.predict_intervals`),
    beside the constant-width baseline: the point gap +- ``constant[level]`` (split-conformal
    on out-of-fold absolute errors), clipped at 0."""
    from crystaldos.prediction.band_gap import INTERVAL_LEVELS, interval_columns

    out = {}
    for level in INTERVAL_LEVELS:
        low, high = (bounds[c] for c in interval_columns(level))
        c = constant[str(level)]
        base_low, base_high = np.clip(point - c, 0, None), point + c
        inside = (true_gap >= low) & (true_gap <= high)
        gapped = true_gap > 0
        out[str(level)] = {
            "coverage": round(float(np.mean(inside)), 4),
            "coverage_gapped": round(float(np.mean(inside[gapped])), 4) if gapped.any() else None,
            "mean_width_eV": round(float(np.mean(high - low)), 4),
            "constant_width_coverage": round(float(np.mean((true_gap >= base_low)
                                                           & (true_gap <= base_high))), 4),
            "constant_width_mean_width_eV": round(float(np.mean(base_high - base_low)), 4)}
    return out


def rule_strata(crystals: list, metal: np.ndarray) -> dict:
    """Materials per stratum of the two composition rules (every element a metal; the charge
    rule) with the share of metals in each: where a training set and a check set differ in
    what the rules' strata hold, trees learnt on one mislead on the other."""
    from crystaldos.evaluation.baselines import charge_rule_says_metal, composition_says_metal

    names = {(True, True): "all elements metals", (False, True): "charge rule: metal",
             (False, False): "charge rule: gapped"}
    keys = [(composition_says_metal(c.species), charge_rule_says_metal(c.species))
            for c in crystals]
    out = {}
    for key, name in names.items():
        inside = np.array([k == key for k in keys])
        out[name] = {"n": int(inside.sum()),
                     "share_metals": round(float(metal[inside].mean()), 3) if inside.any()
                     else None}
    return out


def known_crystals(table: str = "CRYSTALS") -> tuple[list, np.ndarray]:
    """The check crystals of ``dft_reference_check.py`` (its ``table``: ``CRYSTALS``, or
    ``TM_OXIDES``) and their plane-wave PBE gaps (eV; for ``TM_OXIDES`` the experimental
    gaps, every one an insulator)."""
    from ase.build import bulk

    from crystaldos.structures.readers import from_ase

    path = Path(__file__).with_name("dft_reference_check.py")
    spec = importlib.util.spec_from_file_location("dft_reference_check", path)
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    rows = getattr(check, table)
    column = 1 if table == "TM_OXIDES" else 2
    crystals = [from_ase(bulk(**value[0]), id=name) for name, value in rows.items()]
    return crystals, np.array([value[column] for value in rows.values()], dtype=float)


def new_records_check(data, earlier: Path) -> dict:
    """The bundled trees (fitted on an earlier set) on the records of ``data`` that the earlier
    set lacks, every split: crystals the trees never saw, most of them chosen because the trees
    and the charge rule disagreed on them (``make_dft_edos.py --prefer disagreement``)."""
    from crystaldos.datasets.jsonl import load_jsonl
    from crystaldos.evaluation.baselines import charge_rule_says_metal, composition_says_metal
    from crystaldos.prediction.band_gap import GapTrees

    seen = {r.id for r in load_jsonl(earlier).records}
    new = [r for r in data.records if r.id not in seen]
    if not new:
        return {"n": 0}
    metal, gap = labels(new)
    crystals = [r.crystal for r in new]
    p, g = GapTrees.load().predict(crystals)
    trees_call = p >= 0.5
    rule = np.array([charge_rule_says_metal(c.species) for c in crystals])
    plain = np.array([composition_says_metal(c.species) for c in crystals])
    differ = trees_call != rule
    return {"earlier_set": str(earlier), "n": len(new), "n_metals": int(metal.sum()),
            "bundled_trees": scores(p, g, metal, gap),
            "charge_rule": {"metal_accuracy": round(float(np.mean(rule == metal)), 4)},
            "composition_rule": {"metal_accuracy": round(float(np.mean(plain == metal)), 4)},
            "disagreements": int(differ.sum()),
            "disagreements_trees_right": int((trees_call == metal)[differ].sum()),
            "disagreements_rule_right": int((rule == metal)[differ].sum())}


def main() -> None:
    from crystaldos.datasets.jsonl import load_jsonl
    from crystaldos.datasets.shared import load_jarvis_edos_sample50
    from crystaldos.errors import DatasetError
    from crystaldos.prediction.band_gap import GapTrees, resolve_gap_trees
    from crystaldos.structures.descriptors import descriptor_matrix

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="an assembled DFT eDOS set")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--bundle", type=Path, default=None,
                        help="also write the chosen trees (with their card) to this folder")
    parser.add_argument("--uip", choices=["chgnet", "sevennet"], default=None,
                        help="also score every setting with this potential's summary of each "
                        "crystal appended to the descriptors, and choose among both")
    parser.add_argument("--new-against", type=Path, default=None,
                        help="an earlier assembled set: score the bundled trees (read before "
                        "--bundle replaces them) on the records it lacks, beside the rules")
    parser.add_argument("--compare", nargs="*", default=[],
                        help="tree sets (bundled names or folders, read before --bundle "
                        "replaces them) to score beside the new trees on the same materials")
    args = parser.parse_args()
    try:
        data = load_jsonl(args.data)
    except DatasetError as err:
        raise SystemExit(f"error: {err}") from None

    if args.new_against is not None:
        result_new = new_records_check(data, args.new_against)
    compared = {str(name): GapTrees.load(resolve_gap_trees(name)) for name in args.compare}
    fit_records = [r for r in data.records if r.split == "train"]
    val_records = [r for r in data.records if r.split == "val"]
    test_records = [r for r in data.records if r.split == "test"]
    crystals = [r.crystal for r in fit_records]
    x = descriptor_matrix(crystals)
    metal, gap = labels(fit_records)
    sets = np.array([r.meta["set"] for r in fit_records])
    result: dict = {"data": {"path": str(args.data), "fit": len(fit_records),
                             "val": len(val_records), "test": len(test_records),
                             "share_metals": float(metal.mean())}}

    # choose the settings out-of-fold; also show what cell size would do
    choice: dict = {}
    size = np.array([[len(c.numbers), len(set(c.species))] for c in crystals], dtype=float)
    candidates = {name: (x, s, None) for name, s in SETTINGS.items()}
    if args.uip is not None:
        start = time.perf_counter()
        x_uip = descriptor_matrix(crystals, args.uip)
        result["uip_seconds_per_structure"] = round((time.perf_counter() - start)
                                                    / len(crystals), 4)
        candidates.update({f"{name} + {args.uip}": (x_uip, s, args.uip)
                           for name, s in SETTINGS.items()})
    variants = {**{name: (f, s) for name, (f, s, _) in candidates.items()},
                "default + cell size": (np.hstack([x, size]), {})}
    for name, (features, settings) in variants.items():
        choice[name] = out_of_fold_scores(features, metal, gap, settings, sets)
    chosen = max(candidates, key=lambda n: (choice[n]["all"]["metal_accuracy"],
                                            -choice[n]["all"]["gap_mae_eV"]))
    result["out_of_fold"] = choice
    result["chosen_settings"] = chosen
    features, settings, uip = candidates[chosen]

    start = time.perf_counter()
    trees = GapTrees.fit(features, metal, gap, settings, card={"uip": uip} if uip else None)
    trees = trees.with_intervals(features, gap)
    result["fit_seconds"] = round(time.perf_counter() - start, 2)
    # the baseline interval: the point gap +- a constant from its out-of-fold errors
    from crystaldos.prediction.band_gap import INTERVAL_LEVELS, conformal_correction

    _, oof_gap = out_of_fold(features, metal, gap, settings)
    constant = {str(level): conformal_correction(oof_gap, oof_gap, gap, level)
                for level in INTERVAL_LEVELS}
    result["interval"] = {**trees.card["interval"], "constant_width_eV": constant}

    evaluations = {}
    val_metal, val_gap = labels(val_records)
    test_metal, test_gap = labels(test_records)
    jarvis = load_jarvis_edos_sample50()
    jarvis_gap = dos_gaps(data.grid, jarvis.spectra())
    known, known_gap = known_crystals()
    oxides, oxide_gap = known_crystals("TM_OXIDES")
    for name, cs, true_metal, true_gap in (
            ("dft_val", [r.crystal for r in val_records], val_metal, val_gap),
            ("dft_test", [r.crystal for r in test_records], test_metal, test_gap),
            ("jarvis50", [r.crystal for r in jarvis.records], jarvis_gap == 0, jarvis_gap),
            ("known_crystals", known, known_gap == 0, known_gap),
            ("tm_oxides_experiment", oxides, oxide_gap == 0, oxide_gap)):
        start = time.perf_counter()
        x_eval = trees.descriptors(cs)
        p, g = trees.predict_descriptors(x_eval)
        seconds = (time.perf_counter() - start) / len(cs)
        evaluations[name] = {"n": len(cs), "n_metals": int(true_metal.sum()),
                             "gap_trees": scores(p, g, true_metal, true_gap),
                             "gap_intervals": interval_scores(
                                 trees.predict_intervals(x_eval, g), g, true_gap, constant),
                             **baselines(crystals, metal, gap, cs, true_metal, true_gap),
                             "seconds_per_structure": seconds}
        if compared:
            evaluations[name]["compared"] = {
                label: scores(*other.predict(cs), true_metal, true_gap)
                for label, other in compared.items()}
        if not name.startswith("dft_"):
            evaluations[name]["wrong_calls"] = [
                {"id": c.id, "formula": c.formula, "metal_probability": round(float(q), 3),
                 "is_metal": bool(t)}
                for c, q, t in zip(cs, p, true_metal, strict=True) if (q >= 0.5) != t]
        if name == "known_crystals":
            evaluations[name]["gaps"] = {c.id: [round(float(a), 3), float(b)]
                                         for c, a, b in zip(cs, g, true_gap, strict=True)}
    result.update(evaluations)
    result["rule_strata"] = {
        "train": rule_strata(crystals, metal),
        "jarvis50": rule_strata([r.crystal for r in jarvis.records], jarvis_gap == 0)}
    if args.new_against is not None:
        result["new_records"] = result_new

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "out_of_fold"}, indent=1))
    print(json.dumps({n: v["all"] for n, v in choice.items()}, indent=1))
    if args.bundle is not None:
        val, test, jarvis = (evaluations[k]["gap_trees"]
                             for k in ("dft_val", "dft_test", "jarvis50"))
        from crystaldos.models.domain import training_domain

        kind = "metallicity and band gap (eV) from composition and cell descriptors"
        card = {"name": args.bundle.name,
                "kind": kind + (f" and {uip}'s summary of the crystal" if uip else ""),
                "training_data": result["data"],
                "domain": training_domain(crystals),
                "command": "OMP_NUM_THREADS=1 python benchmarks/gap_trees.py --data "
                           f"{args.data}" + (f" --uip {args.uip}" if args.uip else "")
                           + f" --bundle {args.bundle}",
                "out_of_fold": choice[chosen]["all"],
                "validation": {k: evaluations[k]["gap_trees"] for k in evaluations},
                "reference": "GPAW PBE (LCAO) gaps from eigenvalues on the k-mesh",
                "validation_note": (
                    f"DFT val / test: metal accuracy {val['metal_accuracy']:.2f} / "
                    f"{test['metal_accuracy']:.2f}, gap MAE {val['gap_mae_eV']:.2f} / "
                    f"{test['gap_mae_eV']:.2f} eV; 50 JARVIS DFT spectra: metal accuracy "
                    f"{jarvis['metal_accuracy']:.2f} (charge rule "
                    f"{evaluations['jarvis50']['charge_rule']['metal_accuracy']:.2f}), gap MAE "
                    f"{jarvis['gap_mae_eV']:.2f} eV"),
                "caveat": (f"learnt from {len(fit_records)} PBE spectra of cells up to "
                           f"{max(len(c.numbers) for c in crystals)} atoms, almost none with "
                           "an f-block element, none with a noble gas, few large "
                           "intermetallics, spin-polarized only with Cr, Mn, Fe, Co or Ni"
                           + (": on the 50 larger JARVIS cells the charge rule calls metals "
                              "better" if evaluations["jarvis50"]["charge_rule"]["metal_accuracy"]
                              > jarvis["metal_accuracy"] else ""))}
        from dataclasses import replace

        replace(trees, card={**trees.card, **card}).save(args.bundle)
        print(f"wrote {args.bundle}")


if __name__ == "__main__":
    main()
