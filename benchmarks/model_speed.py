"""End-to-end prediction speed of every bundled model, for `crystaldos models`.

    OMP_NUM_THREADS=1 python benchmarks/model_speed.py --structures 300 --write-cards

Each model predicts the same structures (the first ``--structures`` of the shared JARVIS and
Materials Project sets) through the prediction pipeline with properties at 300 K, featurizing in
process, after one warm-up batch; the figure is structures per second from the structure in
memory to the finished row. The tree models (``gap-trees``, ``gap-trees-uip``,
``stability-uip``) are timed on the same structures through the rows of ``crystaldos gap`` and
``crystaldos stability`` (``--trees NAME...`` picks some; ``--trees`` alone none). With
``--write-cards`` the figure goes into each card's ``speed`` section (with the machine and this
command), which ``crystaldos models`` prints. Writes benchmarks/results_model_speed.json
(``--models`` or ``--trees`` update only those entries).
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
    parser.add_argument("--trees", nargs="*", default=None, help="tree models to time "
                        "(default: every bundled one; none when given without names)")
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
    elif args.trees is not None:
        directories = []
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
    for name, (rows_of, card_path) in tree_models(args.trees).items():
        rows_of(crystals[:8])  # warm-up: loads the potential
        start = time.perf_counter()
        rows_of(crystals)
        seconds = time.perf_counter() - start
        rate = len(crystals) / seconds
        results[name] = {"structures": len(crystals), "seconds": round(seconds, 2),
                         "structures_per_s": round(rate, 1)}
        print(f"{name:>20s}  {rate:8.1f} structures/s", flush=True)
        if args.write_cards:
            card = json.loads(card_path.read_text())
            card["speed"] = {"structures_per_s": round(rate, 1), "machine": machine,
                             "command": f"OMP_NUM_THREADS={torch.get_num_threads()} python "
                             f"benchmarks/model_speed.py --structures {args.structures} "
                             f"--write-cards --trees {name}"}
            atomic_write_text(card_path, json.dumps(card, indent=1) + "\n")
    if (args.models or args.trees is not None) and args.out.exists():  # a subset: keep others
        results = {**json.loads(args.out.read_text())["models"], **results}
    atomic_write_text(args.out, json.dumps({"machine": machine, "models": results},
                                           indent=1) + "\n")


def tree_models(names: list[str] | None) -> dict[str, tuple]:
    """name -> (function of crystals that makes their rows, card path) of the bundled tree
    models named (all when None)."""
    from crystaldos.prediction import band_gap, stability

    found = {name: (band_gap.GapTrees.load(name), band_gap.resolve_gap_trees(name)
                    / band_gap.CARD_NAME) for name in band_gap.bundled_gap_trees()}
    if (stability.CLASSIFIER_DIR / stability.CARD_NAME).exists():
        found["stability-uip"] = (stability.StabilityClassifier.load(),
                                  stability.CLASSIFIER_DIR / stability.CARD_NAME)
    if names is not None:
        unknown = set(names) - set(found)
        if unknown:
            raise SystemExit(f"error: no bundled tree model {sorted(unknown)}; "
                             f"choose from {sorted(found)}")
        found = {name: found[name] for name in names}
    return {name: (lambda crystals, m=model: [m.row(c) for c in crystals], path)
            for name, (model, path) in found.items()}


if __name__ == "__main__":
    main()
