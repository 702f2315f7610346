"""End-to-end screening throughput: crystaldos screen against alignn at paper size, same run.

Both read the same real structure files of ../shared/datasets (the 3,756 JARVIS dft_3d structures
of the phonon benchmark and the 1,522 Materials Project structures: 5,278, as JSON lines) and
write every predicted spectrum to Parquet:

* crystaldos: ``crystaldos.screening.screen`` with a bundled model (default ``mp-phdos``),
  properties on (Cv, S, U, F at 300 K, Debye temperature, isotope scattering, stability), local
  backend with ``--workers`` featurization processes;
* alignn 2026.8.11: the same records turned into jarvis ``Atoms``, its ``build_pure_torch_graph``
  (12 neighbours, 8 Å, cgcnn features), ``ALIGNNAtomWisePure`` at paper size (4 + 4 layers,
  hidden 256, 51 outputs, untrained weights: the speed does not depend on them), batched
  inference, spectra written to one Parquet file. No properties: they only flatter alignn.

Wall-clock seconds include reading, featurization, inference and writing. Run in the benchmark
environment (alignn installed beside crystaldos) on an otherwise idle machine:

    OMP_NUM_THREADS=2 .venv-bench/bin/python benchmarks/screen_throughput.py --workers 2
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def shared_files() -> list[Path]:
    from crystaldos.datasets.shared import default_shared_root

    root = default_shared_root()
    return [root / "jarvis_phonon_benchmark" / "structures_dft3d.jsonl.gz",
            root / "mp_phonon_e3nn" / "mp_phdos_e3nn.jsonl.gz"]


def run_ours(files: list[Path], model: str, workers: int, batch_size: int,
             out: Path) -> dict[str, float]:
    from crystaldos.pretrained import load_pretrained
    from crystaldos.screening import read_table, screen

    start = time.perf_counter()
    bundle = load_pretrained(model)
    summary = screen([str(f) for f in files], bundle, out, workers=workers,
                     batch_size=batch_size, temperatures=(300.0,))
    seconds = time.perf_counter() - start
    rows = read_table(out, columns=["key"]).num_rows
    return {"structures": summary.written + summary.failed, "rows": rows,
            "failures": summary.failed, "seconds": seconds,
            "structures_per_s": (summary.written + summary.failed) / seconds}


def run_alignn(files: list[Path], batch_size: int, out: Path,
               limit: int | None) -> dict[str, float]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from alignn.models.alignn_atomwise_pure import ALIGNNAtomWisePure, ALIGNNAtomWisePureConfig
    from alignn.torch_graph_builder import batch_torch_graph_pairs, build_pure_torch_graph
    from jarvis.core.atoms import Atoms

    from crystaldos.structures.sources import iter_inputs

    config = ALIGNNAtomWisePureConfig(
        name="alignn_atomwise_pure", alignn_layers=4, gcn_layers=4, atom_input_features=92,
        hidden_features=256, embedding_features=64, output_features=51,
        calculate_gradient=False, use_penalty=False, energy_mult_natoms=False, use_zbl=False)
    model = ALIGNNAtomWisePure(config).eval()
    lattice = torch.eye(3)
    start = time.perf_counter()
    ids, spectra, pairs = [], [], []
    n = 0

    def flush() -> None:
        g, lg = batch_torch_graph_pairs([p for _, p in pairs])
        with torch.no_grad():
            result = model((g, lg, lattice))
        pred = result["out"] if isinstance(result, dict) else result
        spectra.extend(np.asarray(pred, dtype=np.float32).reshape(len(pairs), -1))
        ids.extend(i for i, _ in pairs)
        pairs.clear()

    for crystal in iter_inputs([str(f) for f in files]):
        if limit is not None and n >= limit:
            break
        atoms = Atoms(lattice_mat=crystal.lattice, coords=crystal.positions,
                      elements=list(crystal.species), cartesian=True)
        pairs.append((crystal.id, build_pure_torch_graph(atoms, two_body_cutoff=8.0,
                                                          max_neighbors=12,
                                                          atom_features="cgcnn")))
        n += 1
        if len(pairs) == batch_size:
            flush()
    if pairs:
        flush()
    table = pa.table({"id": ids, "dos": [s.tolist() for s in spectra]})
    pq.write_table(table, out / "alignn.parquet")
    seconds = time.perf_counter() - start
    return {"structures": n, "seconds": seconds, "structures_per_s": n / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mp-phdos")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--alignn-limit", type=int, default=None,
                        help="time alignn on the first K structures only")
    parser.add_argument("--keep", type=Path, default=None,
                        help="write crystaldos' run directory here and keep it (for a report)")
    parser.add_argument("--output", default=str(Path(__file__).with_name(
        "results_screen_throughput.json")))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    files = shared_files()
    work = Path(tempfile.mkdtemp(prefix="screen-bench-"))
    try:
        if args.keep is not None and args.keep.exists():
            parser.error(f"--keep {args.keep} exists; a resumed run would time nothing")
        ours = run_ours(files, args.model, args.workers, args.batch_size,
                        args.keep or work / "ours")
        print(f"crystaldos screen ({args.model}, {args.workers} workers): "
              f"{ours['structures']} structures in {ours['seconds']:.1f} s = "
              f"{ours['structures_per_s']:.0f} structures/s ({ours['failures']} failures)")
        (work / "alignn").mkdir()
        peer = run_alignn(files, 16, work / "alignn", args.alignn_limit)
        print(f"alignn ALIGNNAtomWisePure paper size: {peer['structures']} structures in "
              f"{peer['seconds']:.1f} s = {peer['structures_per_s']:.1f} structures/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    speedup = ours["structures_per_s"] / peer["structures_per_s"]
    print(f"speed-up {speedup:.1f}x")
    result = {"crystaldos": ours, "alignn": peer, "speedup": speedup, "model": args.model,
              "workers": args.workers, "threads": args.threads, "torch": torch.__version__,
              "machine": platform.machine()}
    Path(args.output).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
