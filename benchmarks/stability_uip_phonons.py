"""Dynamical stability from a universal potential's own phonons, on JARVIS validation.

    OMP_NUM_THREADS=1 python benchmarks/stability_uip_phonons.py [--potential chgnet] \\
        [--relax] [--limit N]

For each JARVIS phonon-benchmark validation material (its dft_3d structure, the DFT geometry),
phonopy finite displacements with forces from a pretrained universal potential
(:func:`crystaldos.screening.verify.phonon_mesh`: supercells at least 8 Å across, 16^3 q-mesh),
no training at all. With ``--relax`` the atoms first move to the potential's own minimum in
the DFT cell, keeping the cell's symmetry (ASE ``FixSymmetry``, BFGS to 0.01 eV/Å, at most 300
steps), so residual forces at a geometry the potential does not find balanced cannot pose as
instabilities while a symmetric saddle point stays one. The phonon DOS on the JARVIS grid
gives the share of imaginary modes exactly as the labels are read from the DFT DOS
(unstable: more than 10 %), so the same rule is a classifier; the share itself is a score
for the AUC and the precision at 60 % recall. Scored beside the trees on the potentials'
summaries (the bundled ``stability-uip``, ``benchmarks/stability_uip.py``) on the same
materials.

Resumable: one line per material is appended (flushed and fsync'd) to
``cache/stability_uip_phonons/<potential>[-relaxed].jsonl`` (share on the grid, share of mesh
modes below -0.1 THz, seconds, what the relaxation did; or the error), and materials already
there are skipped.
Writes ``results_stability/uip_phonons_<potential>[-relaxed][-first<N>].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from stability_classifier import THRESHOLD, confusion  # same folder: same truth, same table

RESULTS = Path(__file__).parent / "results_stability"
#: a mesh mode below this (THz) counts as imaginary in the mesh share
MESH_IMAGINARY_THZ = -0.1


def calculator(potential: str, relax: bool) -> object | None:
    """The ASE calculator of ``potential`` (None: phonon_mesh's memory-aware CHGNet, when
    nothing needs a calculator of its own)."""
    if potential == "chgnet":
        if not relax:
            return None
        from chgnet.model.dynamics import CHGNetCalculator

        return CHGNetCalculator()
    from sevenn.calculator import SevenNetCalculator

    return SevenNetCalculator("7net-0", device="cpu")


def relaxed(crystal: object, calc: object) -> tuple[object, dict]:
    """``crystal`` with its atoms at the potential's minimum in the same cell and symmetry,
    and what the relaxation did (steps, largest residual force before and after, eV/Å)."""
    from ase.constraints import FixSymmetry
    from ase.optimize import BFGS

    from crystaldos.structures.readers import from_ase

    atoms = crystal.to_ase()
    atoms.calc = calc
    before = float(np.linalg.norm(atoms.get_forces(), axis=1).max())
    atoms.set_constraint(FixSymmetry(atoms, symprec=1e-3))
    optimizer = BFGS(atoms, logfile=None)
    optimizer.run(fmax=0.01, steps=300)
    after = float(np.linalg.norm(atoms.get_forces(), axis=1).max())
    atoms.set_constraint()
    return (from_ase(atoms, id=crystal.id),
            {"relax_steps": int(optimizer.nsteps), "force_before": round(before, 4),
             "force_after": round(after, 4)})


def compute(records: list, grid: object, path: Path, potential: str,
            relax: bool = False) -> dict[str, dict]:
    """id -> cached line, computing (and appending) the materials not yet in ``path``."""
    from crystaldos.physics.phonon import modes_from_dos, negative_mode_fraction
    from crystaldos.screening.verify import mesh_dos, phonon_mesh

    done: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a stop: computed again
                continue
            done[row["id"]] = row
    path.parent.mkdir(parents=True, exist_ok=True)
    calc = calculator(potential, relax)
    todo = [r for r in records if r.id not in done]
    print(f"{len(done)} cached, {len(todo)} to compute with {potential}", flush=True)
    with path.open("a") as handle:
        for k, record in enumerate(todo):
            start = time.perf_counter()
            try:
                crystal, info = (relaxed(record.crystal, calc) if relax
                                 else (record.crystal, {}))
                # CHGNet's phonons through phonon_mesh's own forces-only, memory-aware model
                thz, weights = phonon_mesh(crystal, calculator=None if potential == "chgnet"
                                           else calc)
                dos = mesh_dos(thz, weights, grid)
                share = np.average(np.mean(thz < MESH_IMAGINARY_THZ, axis=1), weights=weights)
                row = {"id": record.id,
                       "share_grid": float(negative_mode_fraction(modes_from_dos(grid, dos, 1))),
                       "share_mesh": float(share),
                       "min_thz": float(thz.min()), **info}
            except Exception as err:  # one material's failure is recorded, the run goes on
                row = {"id": record.id, "error": f"{type(err).__name__}: {err}"[:300]}
            row["seconds"] = round(time.perf_counter() - start, 2)
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            done[record.id] = row
            if (k + 1) % 20 == 0:
                print(f"{k + 1}/{len(todo)}", flush=True)
    return done


def main() -> None:
    from sklearn.metrics import roc_auc_score

    from crystaldos.datasets.shared import load_jarvis_phonon_benchmark
    from crystaldos.physics.phonon import modes_from_dos, negative_mode_fraction
    from stability_uip import precision_at_recall

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--potential", choices=["chgnet", "sevennet"], default="chgnet")
    parser.add_argument("--relax", action="store_true", help="relax the atoms in the DFT cell "
                        "with the potential (symmetry kept) before the phonons")
    parser.add_argument("--limit", type=int, default=None, help="the first N materials only")
    parser.add_argument("--cache", type=Path, default=Path("cache/stability_uip_phonons"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    data = load_jarvis_phonon_benchmark().with_structures().with_spectra()
    val = data.split("val").records[:args.limit]
    tag = args.potential + ("-relaxed" if args.relax else "")
    rows = compute(val, data.grid, args.cache / f"{tag}.jsonl", args.potential, args.relax)
    if args.limit is not None:
        tag += f"-first{args.limit}"
    truth = np.array([negative_mode_fraction(modes_from_dos(data.grid, r.dos, 1)) > THRESHOLD
                      for r in val])
    ok = np.array(["error" not in rows[r.id] for r in val])
    share = np.array([rows[r.id].get("share_grid", np.nan) for r in val])
    seconds = np.array([rows[r.id]["seconds"] for r in val])
    result = {"potential": args.potential, "relaxed": args.relax, "n": len(val),
              "n_failed": int((~ok).sum()),
              "failures": [rows[r.id] for r, good in zip(val, ok, strict=True) if not good],
              "unstable_share": float(truth.mean()),
              "seconds_per_structure_median": float(np.median(seconds)),
              "seconds_per_structure_mean": float(np.mean(seconds)),
              "rule": {"threshold_share": THRESHOLD,
                       **confusion(share[ok] > THRESHOLD, truth[ok])},
              "auc": float(roc_auc_score(truth[ok], share[ok])),
              "precision_at_recall_0.6": precision_at_recall(share[ok], truth[ok], 0.6)}
    from crystaldos.prediction.stability import StabilityClassifier

    classifier = StabilityClassifier.load()  # the bundled trees, on the same materials
    probability = np.array([classifier.unstable_probability(r.crystal) for r in val])
    result["bundled_stability_uip"] = {
        "potentials": list(classifier.potentials), "threshold": classifier.threshold,
        **confusion(probability[ok] >= classifier.threshold, truth[ok]),
        "auc": float(roc_auc_score(truth[ok], probability[ok])),
        "precision_at_recall_0.6": precision_at_recall(probability[ok], truth[ok], 0.6)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"uip_phonons_{tag}.json").write_text(
        json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "failures"}, indent=1))


if __name__ == "__main__":
    main()
