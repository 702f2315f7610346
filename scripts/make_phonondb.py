"""Build the phonondb data set: phonopy on the Kyoto phonondb force sets (train + val only).

Reads ``../shared/datasets/phonondb_pbesol/index.jsonl.gz`` and the archives of the public
repository ``WMD-group/phononDB`` (a bare git copy, or a checkout), computes for every train and
val material the primitive cell, the mode histogram on the 10 cm^-1 fine grid, the share of
imaginary modes and Cv, S, F (see :mod:`crystaldos.reference.phonondb`), and appends one record
per material to compressed, resumable parts under ``--out`` (see
:mod:`crystaldos.reference.shards`); failures go to ``failures.jsonl`` with their reason. Test
materials are never computed: ``--test-structures`` writes only their primitive cells (for
predictions) to ``test-structures.jsonl.gz``.

    python scripts/make_phonondb.py --source /path/to/phononDB.git --out data/phonondb --workers 2
    python scripts/make_phonondb.py --source ... --out data/phonondb --summary
    python scripts/make_phonondb.py --source ... --out data/phonondb --test-structures

Rerunning the first command resumes; ``--limit K`` takes the first K materials of the order
(smallest cells first).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

SHARED_INDEX = (Path(__file__).resolve().parents[1].parent / "shared" / "datasets" /
                "phonondb_pbesol" / "index.jsonl.gz")

_archives = None


def _init_worker(source: str) -> None:
    import warnings

    global _archives
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    warnings.simplefilter("ignore")  # phonopy's notes on primitive and mesh choices, per item
    from crystaldos.reference.phonondb import open_archives

    _archives = open_archives(source)


def _compute(entry: dict, mesh_length: float) -> dict:
    """One material as a record, or a failure record (``reason`` set)."""
    from crystaldos.reference.phonondb import PhonondbError, phonons_from_archive, read_archive

    start = time.perf_counter()
    try:
        files = read_archive(_archives.read(entry["archive"]), entry["archive"])
        res = phonons_from_archive(files, mesh_length=mesh_length)
    except PhonondbError as err:
        return {"id": entry["mp_id"], "archive": entry["archive"], "reason": err.problem,
                "seconds": round(time.perf_counter() - start, 3)}
    return res.to_record(entry["mp_id"], entry["split"], entry["formula"])


def _todo(args: argparse.Namespace, done: set[str]) -> list[dict]:
    from crystaldos.reference.phonondb import iter_index

    entries = [e for e in iter_index(args.index) if e["split"] in ("train", "val")]
    entries.sort(key=lambda e: (e["natoms"], e["mp_id"]))  # smallest cells first
    entries = entries[:args.limit]
    return [e for e in entries if e["mp_id"] not in done]


def build(args: argparse.Namespace) -> None:
    from functools import partial

    from crystaldos.reference.campaign import run_campaign
    from crystaldos.reference.shards import RecordShards

    store = RecordShards(args.out, prefix="phonondb", part_size=args.part_size)
    todo = _todo(args, store.done_ids())
    print(f"{len(todo)} materials to compute with {args.workers} workers", flush=True)
    run_campaign(todo, partial(_compute, mesh_length=args.mesh_length), store,
                 workers=args.workers, initializer=_init_worker, initargs=(str(args.source),),
                 report_every=200, log=lambda m: print(m, flush=True))


def summary(args: argparse.Namespace) -> None:
    """Counts, timings, failures by reason and the frequency range of the built records."""
    from crystaldos.reference.phonondb import FINE_GRID
    from crystaldos.reference.shards import RecordShards
    from crystaldos.safe_io import atomic_write_text

    store = RecordShards(args.out, prefix="phonondb", part_size=args.part_size)
    rows = list(store.records())
    failures = store.failures()
    if not rows:
        sys.exit(f"error: {args.out}: no records yet")
    seconds = np.array([r["seconds"] for r in rows])
    from crystaldos.spectra.grid import PHDOS_221

    points = FINE_GRID.points
    lo, hi = PHDOS_221.edges[0], PHDOS_221.edges[-1]
    above_1000 = below_0 = outside_221 = total = 0.0
    top = []
    for r in rows:
        hist = np.zeros(FINE_GRID.count)
        hist[r["hist_first"]:r["hist_first"] + len(r["hist"])] = r["hist"]
        n = hist.sum() + r["modes_below_grid"] + r["modes_above_grid"]
        total += n
        above_1000 += hist[points > 1000].sum() + r["modes_above_grid"]
        below_0 += hist[points < 0].sum() + r["modes_below_grid"]
        outside_221 += (hist[(points < lo) | (points > hi)].sum() + r["modes_below_grid"]
                        + r["modes_above_grid"])
        top.append(r["max_frequency_cm1"])
    reasons: dict[str, int] = {}
    for f in failures:
        key = f["reason"].split(" (")[0]
        reasons[key] = reasons.get(key, 0) + 1
    imag = np.array([r["imaginary_fraction"] for r in rows])
    result = {
        "records": len(rows), "by_split": {s: sum(r["split"] == s for r in rows)
                                           for s in ("train", "val")},
        "failures": len(failures), "failure_reasons": reasons,
        "seconds_per_material_mean": float(seconds.mean()),
        "seconds_per_material_median": float(np.median(seconds)),
        "core_hours": float((seconds.sum() + sum(f["seconds"] for f in failures)) / 3600),
        "share_of_modes_above_1000_cm1": above_1000 / total,
        "share_of_modes_below_0_cm1": below_0 / total,
        "share_of_modes_outside_phdos221": outside_221 / total,
        "max_frequency_quantiles_cm1": {q: float(np.quantile(top, q / 100))
                                        for q in (50, 90, 99, 100)},
        "share_materials_top_above_1000_cm1": float(np.mean(np.array(top) > 1000)),
        "share_materials_imaginary_above_1pct": float(np.mean(imag > 0.01)),
        "with_born": sum(r["has_born"] for r in rows)}
    atomic_write_text(args.out / "summary.json", json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


def test_structures(args: argparse.Namespace) -> None:
    """Primitive cells of the test materials (structures only, no phonons)."""
    from crystaldos.reference.phonondb import (
        PhonondbError,
        iter_index,
        open_archives,
        primitive_cell,
        read_archive,
    )
    from crystaldos.safe_io import atomic_write_bytes

    lines = []
    with open_archives(args.source) as archives:
        for e in iter_index(args.index):
            if e["split"] != "test":
                continue
            try:
                files = read_archive(archives.read(e["archive"]), e["archive"])
                lattice, species, frac = primitive_cell(files)
            except PhonondbError as err:
                print(f"skipped {err}", file=sys.stderr)
                continue
            lines.append(json.dumps({"id": e["mp_id"], "split": "test", "formula": e["formula"],
                                     "lattice": np.round(lattice, 6).tolist(),
                                     "species": list(species),
                                     "frac_coords": np.round(frac, 6).tolist()}))
    target = args.out / "test-structures.jsonl.gz"
    atomic_write_bytes(target, gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
    print(f"{len(lines)} test structures -> {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True,
                        help="bare git copy or checkout of WMD-group/phononDB")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--index", type=Path, default=SHARED_INDEX)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--mesh-length", type=float, default=50.0,
                        help="phonopy q-mesh length (Å); 50 gives about 7,000 q-points "
                             "for a 2-atom cell")
    parser.add_argument("--part-size", type=int, default=500)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--summary", action="store_true", help="write summary.json and stop")
    parser.add_argument("--test-structures", action="store_true",
                        help="write the test materials' primitive cells and stop")
    args = parser.parse_args()
    if not args.index.is_file():
        sys.exit(f"error: {args.index}: index not found (see shared/datasets/phonondb_pbesol)")
    if args.summary:
        summary(args)
    elif args.test_structures:
        test_structures(args)
    else:
        build(args)


if __name__ == "__main__":
    main()
