"""End-to-end prediction speed of every bundled model, for `crystaldos models`.

    OMP_NUM_THREADS=1 python benchmarks/model_speed.py --structures 300 --write-cards

Each model predicts the same structures (the first ``--structures`` of the shared JARVIS and
Materials Project sets) through the prediction pipeline with properties at 300 K, featurizing in
process, after one warm-up batch; the figure is structures per second from the structure in
memory to the finished row. With ``--write-cards`` the figure goes into each card's ``speed``
section (with the machine and this command), which ``crystaldos models`` prints.
Writes benchmarks/results_model_speed.json (``--models`` updates only those models' entries).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch


def main() -> None:
    from crystaldos.datasets.shared import load_jarvis_phonon_benchmark, load_mp_phonon
    from crystaldos.models.saving import CARD_FILE, load_model
    from crystaldos.prediction.pipeline import PredictionPipeline
    from crystaldos.pretrained import bundled_models
    from crystaldos.safe_io import atomic_write_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=400)
    parser.add_argument("--models", nargs="*", default=None, help="model directories "
                        "(default: every bundled model)")
    parser.add_argument("--write-cards", action="store_true")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results_model_speed.json")
    args = parser.parse_args()
    crystals = [r.crystal for r in load_jarvis_phonon_benchmark(structures="dft3d")
                if r.crystal is not None]
    crystals += [r.crystal for r in load_mp_phonon()]
    crystals = crystals[:args.structures]
    if args.models:
        directories = [Path(m) for m in args.models]
    else:
        directories = sorted(set(bundled_models().values()))
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, torch "
               f"{torch.__version__}, threads={torch.get_num_threads()}")
    results = {}
    for directory in directories:
        bundle = load_model(directory)
        pipeline = PredictionPipeline(bundle, properties=True)
        list(pipeline.run(crystals[:64]))  # warm-up
        start = time.perf_counter()
        rows = list(pipeline.run(crystals))
        seconds = time.perf_counter() - start
        rate = len(rows) / seconds
        results[bundle.name] = {"structures": len(rows), "seconds": round(seconds, 2),
                                "structures_per_s": round(rate, 1)}
        print(f"{bundle.name:>20s}  {rate:8.1f} structures/s", flush=True)
        if args.write_cards:
            path = Path(directory) / CARD_FILE
            card = json.loads(path.read_text())
            command = (f"OMP_NUM_THREADS={torch.get_num_threads()} python "
                       f"benchmarks/model_speed.py --structures {args.structures} --write-cards"
                       + (f" --models {directory}" if args.models else ""))
            card["speed"] = {"structures_per_s": round(rate, 1), "machine": machine,
                             "command": command}
            atomic_write_text(path, json.dumps(card, indent=1) + "\n")
    if args.models and args.out.exists():  # a subset updates its entries, keeps the others
        results = {**json.loads(args.out.read_text())["models"], **results}
    atomic_write_text(args.out, json.dumps({"machine": machine, "models": results},
                                           indent=1) + "\n")


if __name__ == "__main__":
    main()
