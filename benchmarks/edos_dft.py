"""Electronic models against DFT nobody here made: JARVIS-50 and the DFT set's test split.

Every figure stands beside the mean training spectrum and the composition-only nearest-neighbour
regressor fitted on the same DFT training spectra (k chosen on the evaluated spectra, which can
only flatter it); metallicity also beside the rule "every element is a metal => metal" and the
stronger charge rule (also a metal when common oxidation states cannot balance the formula,
:func:`crystaldos.evaluation.baselines.charge_rule_says_metal`).

* JARVIS-50 (``jarvis_edos_sample50``, OptB88vdW, E = 0 at E_F, spin-up per VASP valence
  electron). Shapes are compared after scaling each spectrum to unit mean over the grid, because
  JARVIS counts electrons of VASP's potentials and the package counts its own table's: shape
  MAE (unit-mean units) and Pearson r per material, averaged. The two sets put an insulator's
  Fermi level in different places: GPAW's Fermi-Dirac level near the middle of the gap (median
  VBM at -0.49 of the gap in the DFT set), JARVIS's about 0.55 eV above the valence band
  whatever the gap (Xe: VBM -0.53 eV, CBM +5.98 eV). ``jarvis50`` compares Fermi-aligned models
  with the JARVIS spectra moved to mid-gap (:meth:`DOSDataset.aligned_to`, gapped spectra
  only; every predictor and baseline against the same moved spectra); ``jarvis50_as_given``
  keeps JARVIS's own zero, as this benchmark did before 2026-12-06. ``jarvis50`` also compares
  each spectrum only up to 0.5 eV below the last state of the JARVIS spectrum
  (:func:`computed_window`): JARVIS computed few empty bands, 36 of its spectra end between 2.0
  and 9.9 eV, and the mean JARVIS spectrum at 7-8 eV is half of GPAW's.
  ``jarvis50_jarvis_zero`` is that window at JARVIS's own zero (the models' DOS fills the gap,
  so where the gap sits moves every predictor by about 0.015). The reference gap and
  metallicity are those of the JARVIS spectrum
  (:func:`crystaldos.physics.electronic.band_gap` at E_F); a model's gap is that of the gap
  trees its card names, else of its direct head where it has one, else the gap of its DOS.
  Models trained on
  VBM-aligned spectra (xtb-edos) are scored on the JARVIS spectra moved to the VBM.
* The DFT set's own test split (``scripts/make_dft_edos.py --assemble``): DOS MAE in states/eV
  per valence electron, gap MAE against the DFT eigenvalue gap, metal/gapped accuracy.
* The 15 known crystals of ``benchmarks/dft_reference_check.py`` at experimental lattice
  constants: gaps against the plane-wave PBE literature value, metal/gapped class and the
  Spearman rank correlation of the gaps; whether each formula is in the training set is listed.
* Time per structure: the model (featurization included, one core) against the campaign's
  median GPAW seconds.

    python benchmarks/edos_dft.py --data runs/dft_edos.jsonl --models pbe-edos xtb-edos \\
        --out benchmarks/results_pbe_edos
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from crystaldos.datasets.jsonl import load_jsonl
from crystaldos.datasets.shared import load_jarvis_edos_sample50
from crystaldos.errors import DatasetError
from crystaldos.evaluation.baselines import (
    CompositionKNNBaseline,
    MeanSpectrumBaseline,
    charge_rule_says_metal,
    composition_says_metal,
)
from crystaldos.evaluation.metrics import WINDOW_MARGIN, computed_window, unit_mean
from crystaldos.graphs.crystal_graph import build_graph
from crystaldos.models.electronic_heads import decode, split_outputs
from crystaldos.physics.cell import CellInfo
from crystaldos.physics.electronic import band_gap
from crystaldos.prediction.engine import predict_graphs
from crystaldos.pretrained import load_pretrained
from crystaldos.training.trainer import dataset_targets


def dos_gaps(grid, spectra: np.ndarray) -> np.ndarray:
    return np.array([band_gap(grid, y).gap if np.max(y) > 0 else 0.0
                     for y in np.clip(spectra, 0, None)])


def scores(pred: np.ndarray, true: np.ndarray, gap: np.ndarray, true_gap: np.ndarray,
           metal: np.ndarray, true_metal: np.ndarray, window: np.ndarray | None = None) -> dict:
    """Shape MAE, mean per-material Pearson r, gap MAE (all; gapped only), metal accuracy;
    the spectra compared within ``window`` (n, G) bool when given (each material's mean)."""
    w = np.ones(pred.shape, dtype=bool) if window is None else window
    errors = [float(np.abs(p[m] - t[m]).mean()) for p, t, m in zip(pred, true, w, strict=True)]
    r = [float(np.corrcoef(p[m], t[m])[0, 1]) if p[m].std() > 0 and t[m].std() > 0 else 0.0
         for p, t, m in zip(pred, true, w, strict=True)]
    gapped = ~true_metal
    return {"mae": float(np.mean(errors)), "pearson_r": float(np.mean(r)),
            "gap_mae_eV": float(np.abs(gap - true_gap).mean()),
            "gap_mae_gapped_eV": float(np.abs(gap - true_gap)[gapped].mean())
            if gapped.any() else None,
            "metal_accuracy": float(np.mean(metal == true_metal))}


def model_outputs(bundle, crystals) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None,
                                            float]:
    """(spectra in the model's normalization, direct gaps or None, metal probability or None,
    seconds per structure including graph construction)."""
    start = time.perf_counter()
    graphs = [build_graph(c, bundle.graph_settings) for c in crystals]
    raw = predict_graphs(bundle.model, graphs).astype(np.float64)
    seconds = (time.perf_counter() - start) / len(crystals)
    dos, heads = split_outputs(raw, bundle.grid.count)
    if raw.ndim == 3:  # an ensemble: (n, members, outputs); the members' mean
        dos = dos.mean(axis=1)
    if bundle.gap_trees is not None:  # the card's trees fill the columns, as in the rows
        start = time.perf_counter()
        p_metal, gap = bundle.gap_trees.predict(crystals)
        return dos, gap, p_metal, seconds + (time.perf_counter() - start) / len(crystals)
    if heads is None:
        return dos, None, None, seconds
    gap, p_metal = decode(heads)
    if raw.ndim == 3:
        gap, p_metal = gap.mean(axis=1), p_metal.mean(axis=1)
    return dos, gap, p_metal, seconds


def evaluate(name: str, bundle, crystals, true: np.ndarray, grid, true_gap, true_metal,
             shape: bool, window: np.ndarray | None = None) -> tuple[dict, float]:
    """A model's scores; ``shape``: spectra compared at unit mean over ``window`` (all of the
    grid when None), ``true`` already so scaled."""
    dos, gap, p_metal, seconds = model_outputs(bundle, crystals)
    if bundle.normalization != "valence" and not shape:
        raise SystemExit(f"{name}: normalization {bundle.normalization}, expected valence")
    pred = unit_mean(dos, window) if shape else dos
    dos_gap = dos_gaps(grid, dos)
    if gap is None:
        gap, metal = dos_gap, dos_gap == 0
    else:
        metal = p_metal > 0.5
    result = scores(pred, true, gap, true_gap, metal, true_metal, window)
    result["gap_from"] = ("dos" if p_metal is None else "gap trees"
                          if bundle.gap_trees is not None else "direct head")
    if p_metal is not None:
        result["dos_route_gap_mae_eV"] = float(np.abs(dos_gap - true_gap).mean())
        result["dos_route_metal_accuracy"] = float(np.mean((dos_gap == 0) == true_metal))
        # where the head contradicts the charge rule (the rows' note): how often it is right
        rule = np.array([charge_rule_says_metal(c.species) for c in crystals])
        overrides = metal != rule
        result["charge_rule_overrides"] = int(overrides.sum())
        result["charge_rule_overrides_right"] = int((metal == true_metal)[overrides].sum())
        result["wrong_metal_calls"] = [  # per material: what the head said, and the rule
            {"id": c.id, "formula": c.formula, "metal_probability": round(float(p), 3),
             "is_metal": bool(t), "charge_rule_says_metal": bool(r)}
            for c, p, t, r, m in zip(crystals, p_metal, true_metal, rule, metal, strict=True)
            if m != t]
    return result, seconds


def baselines(train_crystals, train_y, crystals, true, grid, true_gap, true_metal,
              shape: bool, window: np.ndarray | None = None) -> dict:
    """The mean training spectrum, composition kNN and the two metallicity rules; ``shape``
    and ``window`` as in :func:`evaluate`."""
    y = unit_mean(train_y) if shape else train_y
    mean = MeanSpectrumBaseline().fit(y).predict(len(crystals))
    knn = CompositionKNNBaseline().fit(train_crystals, y)
    k = knn.select_k(crystals, true)
    knn_pred = knn.predict(crystals)
    out = {}
    for label, pred in (("mean_spectrum", mean), ("composition_knn", knn_pred)):
        gaps = dos_gaps(grid, pred)
        scaled = unit_mean(pred, window) if shape else pred
        out[label] = scores(scaled, true, gaps, true_gap, gaps == 0, true_metal, window)
    out["composition_knn"]["k"] = k
    rule = np.array([composition_says_metal(c.species) for c in crystals])
    out["composition_rule"] = {"metal_accuracy": float(np.mean(rule == true_metal))}
    charge = np.array([charge_rule_says_metal(c.species) for c in crystals])
    out["charge_rule"] = {"metal_accuracy": float(np.mean(charge == true_metal))}
    return out


def known_crystals(bundles: dict, train_formulas: set[str]) -> dict:
    """Direct-head (or DOS) gaps of the check crystals beside plane-wave PBE."""
    import importlib.util

    from ase.build import bulk
    from scipy.stats import spearmanr

    from crystaldos.structures.readers import from_ase

    path = Path(__file__).with_name("dft_reference_check.py")
    spec = importlib.util.spec_from_file_location("dft_reference_check", path)
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    names = list(check.CRYSTALS)
    crystals = [from_ase(bulk(**check.CRYSTALS[n][0]), id=n) for n in names]
    pbe = np.array([check.CRYSTALS[n][2] for n in names], dtype=float)
    out: dict = {"crystals": names, "pbe_gap_eV": pbe.tolist(),
                 "in_training": [reduced_formula(c) in train_formulas for c in crystals]}
    for name, bundle in bundles.items():
        dos, gap, p_metal, _ = model_outputs(bundle, crystals)
        if gap is None:
            gap = dos_gaps(bundle.grid, dos)
            metal = gap == 0
        else:
            metal = p_metal > 0.5
        out[name] = {"gap_eV": np.round(gap, 3).tolist(),
                     "gap_mae_eV": float(np.abs(gap - pbe).mean()),
                     "class_accuracy": float(np.mean(metal == (pbe == 0))),
                     "gap_spearman": float(spearmanr(gap, pbe).statistic)}
    rule = np.array([composition_says_metal(c.species) for c in crystals])
    out["composition_rule"] = {"class_accuracy": float(np.mean(rule == (pbe == 0)))}
    charge = np.array([charge_rule_says_metal(c.species) for c in crystals])
    out["charge_rule"] = {"class_accuracy": float(np.mean(charge == (pbe == 0)))}
    out["tm_oxides"] = tm_oxides(bundles, check)
    return out


def tm_oxides(bundles: dict, check) -> dict:
    """Metal probability of the 3d monoxides (``dft_reference_check.TM_OXIDES``), every one an
    insulator in experiment; plain PBE calls them all metals, the campaign's PBE+U two of four."""
    from ase.build import bulk

    from crystaldos.structures.readers import from_ase

    names = list(check.TM_OXIDES)
    crystals = [from_ase(bulk(**check.TM_OXIDES[n][0]), id=n) for n in names]
    out: dict = {"crystals": names, "experimental_gap_eV": [check.TM_OXIDES[n][1] for n in names]}
    for name, bundle in bundles.items():
        _, _, p_metal, _ = model_outputs(bundle, crystals)
        if p_metal is None:
            continue
        out[name] = {"metal_probability": np.round(p_metal, 3).tolist(),
                     "class_accuracy": float(np.mean(p_metal <= 0.5))}
    return out


def reduced_formula(crystal) -> str:
    return CellInfo.from_crystal(crystal).reduced_formula


def per_valence(dataset) -> np.ndarray:
    """(n, count) spectra per valence electron, converted as training converts them."""
    targets = dataset_targets(dataset, "valence")
    return np.stack([targets[r.id] for r in dataset.records]).astype(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--models", nargs="+", default=["pbe-edos", "xtb-edos"])
    parser.add_argument("--campaign-summary", type=Path, default=Path("data/dft_edos/summary.json"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    try:
        data = load_jsonl(args.data)
    except DatasetError as err:
        raise SystemExit(f"error: {err}") from None
    train = data.split("train")
    test = data.split("test")
    grid = data.grid
    train_crystals = [r.crystal for r in train.records]
    train_y = per_valence(train)
    bundles = {name: load_pretrained(name) for name in args.models}
    result: dict = {"data": {"path": str(args.data), "train": len(train), "test": len(test)}}

    jarvis = load_jarvis_edos_sample50()
    crystals = [r.crystal for r in jarvis.records]
    true_gap = dos_gaps(grid, jarvis.spectra())
    true_metal = true_gap == 0
    timing = {}
    # "jarvis50": JARVIS's gapped spectra moved into the DFT set's convention (E = 0 mid-gap,
    # where GPAW's Fermi-Dirac level sits); "jarvis50_as_given": at JARVIS's own E_F
    for key, fermi_zero, windowed in (("jarvis50", "midgap", True),
                                      ("jarvis50_jarvis_zero", "fermi", True),
                                      ("jarvis50_as_given", "fermi", False)):
        reference = jarvis.aligned_to(fermi_zero).spectra()
        window = computed_window(grid, reference) if windowed else None
        block: dict = {"n": len(crystals), "n_metals": int(true_metal.sum()),
                       "reference_zero": fermi_zero, "window": (
                           f"each JARVIS spectrum up to {WINDOW_MARGIN} eV below its last "
                           "state" if windowed else "the whole grid"),
                       "spectra_ending_inside_the_grid": (
                           None if window is None else int((~window.all(axis=1)).sum())),
                       **baselines(train_crystals, train_y, crystals,
                                   unit_mean(reference, window), grid, true_gap, true_metal,
                                   shape=True, window=window)}
        for name, bundle in bundles.items():
            zero = bundle.card["target"].get("energy_zero") or (
                "vbm" if name.startswith("xtb") else "fermi")
            ref = jarvis.aligned_to(fermi_zero if zero == "fermi" else zero).spectra()
            w = computed_window(grid, ref) if windowed else None
            block[name], timing[name] = evaluate(name, bundle, crystals, unit_mean(ref, w), grid,
                                                 dos_gaps(grid, ref), true_metal, shape=True,
                                                 window=w)
            block[name]["energy_zero"] = zero
        result[key] = block

    if len(test):
        test_crystals = [r.crystal for r in test.records]
        test_y = per_valence(test)
        gaps = np.array([0.0 if r.meta["is_metal"] else r.meta["band_gap"] for r in test.records])
        metal = np.array([bool(r.meta["is_metal"]) for r in test.records])
        block = {"n": len(test), "n_metals": int(metal.sum()),
                 **baselines(train_crystals, train_y, test_crystals, test_y, grid, gaps, metal,
                             shape=False)}
        for name, bundle in bundles.items():
            if bundle.card["target"].get("dataset") == data.name:
                block[name], _ = evaluate(name, bundle, test_crystals, test_y, grid, gaps,
                                          metal, shape=False)
        result["dft_test"] = block
    result["known_crystals"] = known_crystals(
        bundles, {reduced_formula(r.crystal) for r in data.records if r.split != "test"})
    if args.campaign_summary.exists():
        gpaw = json.loads(args.campaign_summary.read_text())["seconds_per_spectrum_median"]
        result["seconds_per_structure"] = {**timing, "gpaw_median": gpaw}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
