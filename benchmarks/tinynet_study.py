"""TinyNet study: held-out local-DOS and force errors against path length n and neighbours N.

Reads the GFN2-xTB frames made by ``scripts/make_md_reference.py``. Trajectory 0 is split in
time (first 80 % train, last 20 % validation, for early stopping); trajectory 1, a separate MD
run, is the held-out test. The largest embedding L_{n_max}^(N_max) is computed once per frame and
every smaller one is a column slice of it. Beside every figure: the element-mean baseline (the
mean training local DOS and force of the atom's element; for a per-atom target this is also the
composition-only baseline, as all atoms of an element share the composition).

    OMP_NUM_THREADS=1 python benchmarks/tinynet_study.py runs/reference/batio3*.npz \
        --out benchmarks/results_tinynet/batio3.json --save-models runs/tinynet/batio3
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from crystaldos.embeddings import MomentsEmbedding
from crystaldos.models.tinynet import save_tinynet
from crystaldos.reference.frames import FrameSet
from crystaldos.training.tinynet import (
    atom_data,
    element_mean_baseline,
    embed_frames,
    evaluate,
    train_tinynet,
)


def markdown_tables(result: dict) -> str:
    """Held-out tables (rows n, columns N) of local-DOS MAE and force RMSE, with the baseline."""
    rows = result["rows"]
    lengths = sorted({r["n"] for r in rows})
    neighbors = sorted({r["N"] for r in rows})
    cell = {(r["n"], r["N"]): r["test"] for r in rows}
    base = result["baseline"]["test"]
    out = []
    for key, label, fmt in (("ldos_mae", "local-DOS MAE (states/eV/atom)", "{:.4f}"),
                            ("force_rmse", "force RMSE (eV/Å)", "{:.3f}")):
        out.append(f"{result['system']}, held-out {label}; element-mean baseline "
                   f"{fmt.format(base[key])}\n")
        out.append("| n \\ N | " + " | ".join(str(v) for v in neighbors) + " |")
        out.append("|---|" + "---|" * len(neighbors))
        for n in lengths:
            out.append(f"| {n} | " + " | ".join(fmt.format(cell[(n, v)][key])
                                               for v in neighbors) + " |")
        out.append("")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("frames", type=Path, nargs="*",
                        help="frame files of one system (joined in order)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--lengths", default="2,3,4,5,6,7,8")
    parser.add_argument("--neighbors", default="0,1,2,3,4")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--patience", type=int, default=40)
    parser.add_argument("--force-weight", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--bond-factor", type=float, default=1.2)
    parser.add_argument("--paths", choices=("walks", "cycles"), default="walks")
    parser.add_argument("--save-models", type=Path, default=None,
                        help="folder for the L4^(2) and L6^(4) models")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report", action="store_true",
                        help="only print the tables of an existing --out file")
    args = parser.parse_args()
    if args.report:
        print(markdown_tables(json.loads(args.out.read_text())))
        return
    torch.set_num_threads(args.threads)
    lengths = [int(v) for v in args.lengths.split(",")]
    neighbors = [int(v) for v in args.neighbors.split(",")]

    frames = FrameSet.concatenate([FrameSet.load(p) for p in args.frames])
    species = tuple(sorted(set(frames.numbers.tolist())))
    biggest = MomentsEmbedding(species, max(lengths), max(neighbors),
                               bond_factor=args.bond_factor, paths=args.paths)
    start = time.perf_counter()
    embedded = embed_frames(frames, biggest)
    embed_s = time.perf_counter() - start
    first = np.flatnonzero(frames.trajectory == 0)
    cut = round(0.8 * first.size)
    parts = {"train": first[:cut], "val": first[cut:],
             "test": np.flatnonzero(frames.trajectory == 1)}
    data = {k: atom_data(frames.subset(v), embedded[v]) for k, v in parts.items()}
    print(f"{frames.recipe.get('name')}: {frames.n_atoms} atoms/frame, frames "
          f"{ {k: int(v.size) for k, v in parts.items()} }, embedding L{max(lengths)}^"
          f"({max(neighbors)}) {1e3 * embed_s / len(frames):.1f} ms/frame", flush=True)
    baseline = {k: element_mean_baseline(data["train"], data[k]).as_dict()
                for k in ("val", "test")}
    print(f"element-mean baseline, test: {baseline['test']}", flush=True)
    rows = []
    for n in lengths:
        for nb in neighbors:
            columns = biggest.columns_of(n, nb)
            sliced = {k: v.columns(columns) for k, v in data.items()}
            start = time.perf_counter()
            model, history = train_tinynet(sliced["train"], sliced["val"], species,
                                           epochs=args.epochs, patience=args.patience,
                                           force_weight=args.force_weight,
                                           batch_size=args.batch_size)
            row = {"n": n, "N": nb, "features": int(columns.size),
                   "epochs": len(history), "train_s": time.perf_counter() - start,
                   "val": evaluate(model, sliced["val"]).as_dict(),
                   "test": evaluate(model, sliced["test"]).as_dict()}
            rows.append(row)
            print(f"L{n}^({nb})  features {columns.size:3d}  test ldos MAE "
                  f"{row['test']['ldos_mae']:.4f}  force RMSE {row['test']['force_rmse']:.3f}  "
                  f"({row['epochs']} epochs, {row['train_s']:.0f} s)", flush=True)
            if args.save_models is not None and (n, nb) in ((4, 2), (6, 4)):
                emb = MomentsEmbedding(species, n, nb, bond_factor=args.bond_factor,
                                       paths=args.paths)
                save_tinynet(args.save_models / f"L{n}N{nb}.pt", model, emb, frames.grid, {
                    "system": frames.recipe.get("name"),
                    "frames": [str(p) for p in args.frames],
                    "recipe": frames.recipe, "test": row["test"], "val": row["val"],
                    "baseline_test": baseline["test"], "epochs": len(history)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "system": frames.recipe.get("name"), "recipe": frames.recipe,
        "n_atoms": frames.n_atoms, "frames": {k: int(v.size) for k, v in parts.items()},
        "embedding_ms_per_frame": 1e3 * embed_s / len(frames), "baseline": baseline,
        "settings": {k: str(v) for k, v in vars(args).items()}, "rows": rows}
    args.out.write_text(json.dumps(result, indent=1))
    print(markdown_tables(result))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    from crystaldos.errors import CrystalDosError

    try:
        main()
    except CrystalDosError as err:  # bad input: one line naming it, no traceback
        raise SystemExit(f"error: {err}") from None
