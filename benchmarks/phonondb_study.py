"""Where phonon-DOS models fail, measured on phonondb validation beside both baselines.

On the phonondb validation materials (DFT PBEsol, built by ``scripts/make_phonondb.py``), for a
model (any grid: its spectrum is moved onto phdos221 conserving area) and for the mean training
spectrum and the composition-only kNN fitted on phonondb training materials, it reports:

* MAE between max-normalized spectra and W1 (cm^-1) between unit-area spectra on phdos221;
* the top-edge error (predicted minus DFT frequency below which 99 % of the spectrum lies) for
  soft materials (DFT edge below 250 cm^-1) and stiff ones (above 600 cm^-1);
* bands above 1000 cm^-1: for materials with at least 2 % of their DFT modes there, the share
  of the predicted spectrum above 1000 cm^-1 against the DFT share;
* Cv and S at 300 K per mole of atoms from each spectrum (crystaldos.physics), against the same
  quantities from the DFT spectrum and from phonopy's exact mesh sums.

    python benchmarks/phonondb_study.py --model runs/phdos --model jarvis-phdos --model mp-phdos
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

EDGE_SHARE = 0.99


def top_edge(spectra: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(n,) frequency below which EDGE_SHARE of each (unit-area) spectrum lies."""
    cdf = np.cumsum(np.clip(spectra, 0, None), axis=1)
    cdf /= np.maximum(cdf[:, -1:], 1e-12)
    return points[np.argmax(cdf >= EDGE_SHARE, axis=1)]


def by_max(spectra: np.ndarray) -> np.ndarray:
    return spectra / np.maximum(spectra.max(axis=1, keepdims=True), 1e-12)


def share_above(spectra: np.ndarray, points: np.ndarray, cut: float = 1000.0) -> np.ndarray:
    y = np.clip(spectra, 0, None)
    return y[:, points > cut].sum(axis=1) / np.maximum(y.sum(axis=1), 1e-12)


def thermal_per_atom(spectra: np.ndarray, grid, temperature: float = 300.0) -> np.ndarray:
    """(n, 2) Cv and S at ``temperature`` in J/(K mol-atoms) of unit-area spectra."""
    from crystaldos.physics.constants import N_A
    from crystaldos.physics.phonon import modes_from_dos, thermal_properties

    out = []
    for y in spectra:
        modes = modes_from_dos(grid, np.clip(y, 0, None), 1)
        props = thermal_properties(modes, [temperature])
        out.append([float(props.heat_capacity[0]), float(props.entropy[0])])
    return np.array(out) * N_A  # per cell of one atom -> per mole of atoms


def model_predictions(name: str, crystals: list, grid) -> np.ndarray:
    """A model's unit-area spectra on ``grid``, through the prediction pipeline."""
    from crystaldos.pretrained import load_pretrained
    from phdos_accuracy import pipeline_spectra

    return pipeline_spectra(load_pretrained(name), crystals, grid, "area")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], help="model dir or name")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent /
                        "results_phonondb" / "study.json")
    args = parser.parse_args()
    from crystaldos.datasets.phonondb import load_phonondb
    from crystaldos.evaluation.baselines import compare_with_baselines
    from crystaldos.evaluation.metrics import mae_per_spectrum, wasserstein_per_spectrum

    data = load_phonondb()
    grid = data.grid
    train, val = data.split("train"), data.split("val")
    true = val.spectra()
    _, preds = compare_with_baselines(true, true, grid, [r.crystal for r in train],
                                      train.spectra(), [r.crystal for r in val])
    candidates = {"mean training spectrum": preds["mean_spectrum"],
                  "composition kNN": preds["composition_knn"]}
    for name in args.model:
        candidates[name] = model_predictions(name, [r.crystal for r in val], grid)
    points = grid.points
    edge_true = top_edge(true, points)
    soft, stiff = edge_true < 250, edge_true > 600
    high = share_above(true, points) >= 0.02
    thermo_true = thermal_per_atom(true, grid)
    exact = np.array([[r.meta["cv_J_per_K_mol"][2] / r.crystal.n_atoms,
                       r.meta["entropy_J_per_K_mol"][2] / r.crystal.n_atoms]
                      for r in val.records])  # phonopy's mesh sums at 300 K
    results = {"n_val": len(val), "n_train": len(train), "n_soft": int(soft.sum()),
               "n_stiff": int(stiff.sum()), "n_with_modes_above_1000": int(high.sum()),
               "dft_spectrum_vs_phonopy_exact_300K": {
                   "cv_mae": float(np.abs(thermo_true[:, 0] - exact[:, 0]).mean()),
                   "s_mae": float(np.abs(thermo_true[:, 1] - exact[:, 1]).mean())},
               "predictors": {}}
    print(f"phonondb validation: {len(val)} materials ({soft.sum()} soft, {stiff.sum()} stiff, "
          f"{high.sum()} with >= 2 % of modes above 1000 cm^-1)")
    print(f"{'predictor':24s} {'MAE':>8s} {'W1':>7s} {'edge soft':>10s} {'edge stiff':>11s} "
          f"{'>1000 share':>11s} {'Cv MAE':>7s} {'S MAE':>7s}")
    for name, pred in candidates.items():
        edge = top_edge(pred, points) - edge_true
        thermo = thermal_per_atom(pred, grid)
        row = {"mae_max_normalized": float(mae_per_spectrum(by_max(pred), by_max(true)).mean()),
               "w1_cm1": float(wasserstein_per_spectrum(pred, true, grid).mean()),
               "top_edge_error_soft_cm1": float(np.mean(edge[soft])),
               "top_edge_error_stiff_cm1": float(np.mean(edge[stiff])),
               "share_above_1000_pred": float(share_above(pred, points)[high].mean()),
               "share_above_1000_dft": float(share_above(true, points)[high].mean()),
               "cv300_mae_J_per_K_molatom": float(np.abs(thermo[:, 0] - thermo_true[:, 0]).mean()),
               "s300_mae_J_per_K_molatom": float(np.abs(thermo[:, 1] - thermo_true[:, 1]).mean())}
        results["predictors"][name] = row
        print(f"{name:24.24s} {row['mae_max_normalized']:8.4f} {row['w1_cm1']:7.1f} "
              f"{row['top_edge_error_soft_cm1']:+10.1f} {row['top_edge_error_stiff_cm1']:+11.1f} "
              f"{row['share_above_1000_pred']:5.3f}/{row['share_above_1000_dft']:5.3f} "
              f"{row['cv300_mae_J_per_K_molatom']:7.3f} {row['s300_mae_J_per_K_molatom']:7.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
