"""Make the GFN2-xTB reference eDOS set on the real structures of ../shared/datasets.

The 5,278 structures (JARVIS dft_3d phonon-benchmark structures + Materials Project phonon set)
are put in a fixed random order (``--seed``); each is computed with
:func:`crystaldos.reference.edos.xtb_edos` and appended as one JSON line (flushed and synced)
to ``OUT/edos-shardK.jsonl``; structures whose SCF never converges go to
``OUT/failures-shardK.jsonl`` with the reason. A rerun skips every id already in either file, so
the job resumes after any interruption (a half-written last line is dropped). Shards split the
order between processes (``--shard K --shards S`` takes every S-th structure):

    export OMP_NUM_THREADS=1
    nohup python scripts/make_xtb_edos.py --out runs/xtb_edos --shard 0 --shards 2 &
    nohup python scripts/make_xtb_edos.py --out runs/xtb_edos --shard 1 --shards 2 &

``--assemble`` then joins the shards into one ``crystaldos`` JSONL data set (per-electron DOS on
the 300-point -5..10 eV grid, a seeded 80/10/10 split) that ``crystaldos train`` reads.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _structures(seed: int) -> list[tuple[str, str, object]]:
    """(id, set name, Crystal) of every shared structure in a fixed random order."""
    from crystaldos.datasets.shared import load_jarvis_phonon_benchmark, load_mp_phonon

    items = [(r.id, "jarvis_dft3d", r.crystal)
             for r in load_jarvis_phonon_benchmark(structures="dft3d").records
             if r.crystal is not None]
    items += [(r.id, "mp_phonon", r.crystal) for r in load_mp_phonon().records]
    order = np.random.default_rng(seed).permutation(len(items))
    return [items[i] for i in order]


def _done_ids(path: Path) -> set[str]:
    """Ids in a JSON-lines file; a half-written last line (killed mid-write) is cut off."""
    from crystaldos.reference.shards import drop_torn_line

    drop_torn_line(path)
    if not path.is_file():
        return set()
    return {json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()}


def run(args: argparse.Namespace) -> None:
    from crystaldos.reference.edos import xtb_edos
    from crystaldos.reference.shards import append_line
    from crystaldos.reference.xtb import ReferenceCalculationError

    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / f"edos-shard{args.shard}.jsonl"
    failures = args.out / f"failures-shard{args.shard}.jsonl"
    done = _done_ids(results) | _done_ids(failures)
    todo = [item for n, item in enumerate(_structures(args.seed)[:args.limit])
            if n % args.shards == args.shard and item[0] not in done]
    print(f"shard {args.shard}/{args.shards}: {len(done)} done, {len(todo)} to go", flush=True)
    start, computed = time.perf_counter(), 0
    for ident, set_name, crystal in todo:
        t0 = time.perf_counter()
        try:
            ref = xtb_edos(crystal, sigma=args.sigma, min_length=args.min_length,
                           max_atoms=args.max_atoms)
        except ReferenceCalculationError as err:
            append_line(failures, {"id": ident, "set": set_name, "formula": crystal.formula,
                               "reason": err.problem, "seconds": time.perf_counter() - t0})
            continue
        computed += 1
        append_line(results, {
            "id": ident, "set": set_name, "formula": crystal.formula,
            "lattice": np.round(crystal.lattice, 6).tolist(), "species": list(crystal.species),
            "frac_coords": np.round(crystal.frac_coords, 6).tolist(),
            "levels": np.round(ref.levels, 4).tolist(), "dos": np.round(ref.dos, 5).tolist(),
            "sigma": ref.sigma, "gap": round(ref.gap, 4), "n_valence": ref.n_valence,
            "repeats": list(ref.repeats), "attempt": ref.attempt,
            "seconds": round(ref.seconds, 3)})
        if computed % 10 == 0:
            rate = computed / (time.perf_counter() - start)
            print(f"shard {args.shard}: {computed} computed, {rate * 3600:.0f}/h", flush=True)


def assemble(args: argparse.Namespace) -> None:
    from crystaldos.spectra.grid import EDOS_300

    rows = []
    for path in sorted(args.out.glob("edos-shard*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows.sort(key=lambda r: r["id"])
    order = np.random.default_rng(args.seed).permutation(len(rows))
    n_val = n_test = len(rows) // 10
    split = {}
    for rank, i in enumerate(order):
        split[i] = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
    target = args.assemble
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8") as handle:
        for i, r in enumerate(rows):
            dos = np.asarray(r["dos"]) / r["n_valence"]
            handle.write(json.dumps({
                "id": r["id"], "split": split[i], "normalization": "valence",
                "energy_zero": "vbm",
                "grid": {"start": EDOS_300.start, "step": EDOS_300.step,
                         "count": EDOS_300.count, "unit": "eV", "kind": "electronic"},
                "lattice": r["lattice"], "species": r["species"],
                "frac_coords": r["frac_coords"],
                "dos": np.round(dos, 6).tolist(),
                "meta": {"set": r["set"], "formula": r["formula"], "xtb_gap": r["gap"],
                         "n_valence_xtb": r["n_valence"]}}, separators=(",", ":")) + "\n")
    failures = [json.loads(line) for path in sorted(args.out.glob("failures-shard*.jsonl"))
                for line in path.read_text().splitlines() if line.strip()]
    seconds = np.array([r["seconds"] for r in rows])
    lost = sum(f["seconds"] for f in failures)
    atoms = np.array([len(r["species"]) * np.prod(r["repeats"]) for r in rows])
    sets = sorted({r["set"] for r in rows})
    by_set = {name: sum(r["set"] == name for r in rows) for name in sets}
    reasons: dict[str, int] = {}
    for f in failures:
        reason = f["reason"].split(" in ")[0]
        reasons[reason] = reasons.get(reason, 0) + 1
    summary = {"spectra": len(rows), "by_set": by_set, "failures": len(failures),
               "failure_reasons": reasons,
               "split": {s: sum(v == s for v in split.values()) for s in ("train", "val", "test")},
               "seconds_per_spectrum_mean": float(seconds.mean()),
               "seconds_per_spectrum_median": float(np.median(seconds)),
               "supercell_atoms_median": float(np.median(atoms)),
               "core_hours_total": float((seconds.sum() + lost) / 3600),
               "core_hours_on_failures": float(lost / 3600),
               "share_gap_below_0.1_eV": float(np.mean([r["gap"] < 0.1 for r in rows]))}
    target.with_suffix(".summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"{len(rows)} spectra -> {target}")
    print(json.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder of the shard files")
    parser.add_argument("--shard", type=int, default=0)
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="first K structures of the order")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sigma", type=float, default=0.15, help="Gaussian smearing, eV")
    parser.add_argument("--min-length", type=float, default=7.0, help="supercell heights, Å")
    parser.add_argument("--max-atoms", type=int, default=32, help="supercell size cap")
    parser.add_argument("--assemble", type=Path, default=None,
                        help="join the shards into this crystaldos JSONL data set and stop")
    args = parser.parse_args()
    if not 0 <= args.shard < args.shards:
        sys.exit(f"error: --shard must be in 0..{args.shards - 1}")
    if args.assemble is not None:
        assemble(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
