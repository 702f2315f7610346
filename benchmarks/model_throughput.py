"""Training and inference throughput of our default ALIGNN-DOS against alignn at paper size.

Both models see the same structures (JARVIS phonon-benchmark training structures from the shared
data) in the same batches, on the same machine, in one run:

* ours: ``ALIGNNDOS`` with the default ``fast`` preset (12 nearest shells; angles only between
  bonds to the 6 nearest shells; 2 ALIGNN + 1 gated-GCN layers, hidden 128, line graph 32 wide)
  and with ``fast-wide`` (3 + 3 layers and a 128-wide head layer, the bundled models' size), on
  our graphs;
* alignn 2026.8.11 ``ALIGNNAtomWisePure`` at paper size (4 ALIGNN + 4 GCN layers, hidden 256,
  embedding 64, 66 outputs, no force/gradient terms), on its own ``build_pure_torch_graph``
  graphs (12 neighbours, 8 Å, angles between all bonds).

A training step is forward + MSE loss + backward + AdamW step. Graph construction is excluded
(it is measured in ``graph_construction_speed.py``). Run with the benchmark environment:

    .venv-bench/bin/python benchmarks/model_throughput.py --batches 6 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Batch

from crystaldos.datasets.shared import load_jarvis_phonon_benchmark
from crystaldos.graphs.atom_features import atom_feature_table
from crystaldos.graphs.crystal_graph import GraphSettings, build_graph
from crystaldos.models.alignn import ALIGNNDOS
from crystaldos.models.presets import get_preset


def time_steps(step, batches, repeats: int = 1) -> tuple[float, int]:
    """Seconds and structures for ``step`` over ``batches[1:]`` (``repeats`` passes) after one
    untimed warm-up call on ``batches[0]``."""
    step(batches[0])
    t0 = time.perf_counter()
    n = 0
    for _ in range(repeats):
        for b in batches[1:]:
            n += step(b)
    return time.perf_counter() - t0, n


def ours(crystals, batch_size: int, preset_name: str = "fast",
         repeats: int = 5) -> dict[str, float]:
    preset = get_preset(preset_name)
    settings = GraphSettings.from_dict(preset["graph"])
    graphs = [build_graph(c, settings) for c in crystals]
    for g in graphs:
        g.y = torch.rand(1, 66)
    batches = [Batch.from_data_list(graphs[i:i + batch_size])
               for i in range(0, len(graphs), batch_size)]
    model = ALIGNNDOS(atom_feature_table(settings.atom_features).shape[1], 66,
                      **preset["model"])
    opt = torch.optim.AdamW(model.parameters(), 1e-3)

    def train_step(b):
        model.train()
        loss = torch.mean((model(b) - b.y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return b.num_graphs

    @torch.no_grad()
    def infer_step(b):
        model.eval()
        model(b)
        return b.num_graphs

    t_train, n = time_steps(train_step, batches, repeats)
    t_inf, _ = time_steps(infer_step, batches, repeats)
    return {"train_structures_per_s": n / t_train, "infer_structures_per_s": n / t_inf,
            "parameters": sum(p.numel() for p in model.parameters()),
            "triplets_per_structure": float(np.mean([g.num_triplets for g in graphs])),
            "bonds_per_structure": float(np.mean([g.num_bonds for g in graphs]))}


def alignn_paper(crystals, batch_size: int) -> dict[str, float]:
    from alignn.models.alignn_atomwise_pure import ALIGNNAtomWisePure, ALIGNNAtomWisePureConfig
    from alignn.torch_graph_builder import batch_torch_graph_pairs, build_pure_torch_graph
    from jarvis.core.atoms import Atoms

    pairs = []
    for c in crystals:
        atoms = Atoms(lattice_mat=c.lattice, coords=c.positions, elements=list(c.species),
                      cartesian=True)
        pairs.append(build_pure_torch_graph(atoms, two_body_cutoff=8.0, max_neighbors=12,
                                            atom_features="cgcnn"))
    batches = []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i:i + batch_size]
        g, lg = batch_torch_graph_pairs(chunk)
        batches.append((g, lg, len(chunk)))
    config = ALIGNNAtomWisePureConfig(
        name="alignn_atomwise_pure", alignn_layers=4, gcn_layers=4, atom_input_features=92,
        hidden_features=256, embedding_features=64, output_features=66,
        calculate_gradient=False, use_penalty=False, energy_mult_natoms=False, use_zbl=False)
    model = ALIGNNAtomWisePure(config)
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    lattice = torch.eye(3)

    def out_of(result):
        return result["out"] if isinstance(result, dict) else result

    def train_step(b):
        g, lg, n = b
        model.train()
        pred = out_of(model((g, lg, lattice)))
        loss = torch.mean((pred - torch.rand_like(pred)) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return n

    @torch.no_grad()
    def infer_step(b):
        g, lg, n = b
        model.eval()
        model((g, lg, lattice))
        return n

    t_train, n = time_steps(train_step, batches)
    t_inf, _ = time_steps(infer_step, batches)
    triplets = float(np.mean([p[1].num_edges for p in pairs]))
    return {"train_structures_per_s": n / t_train, "infer_structures_per_s": n / t_inf,
            "train_seconds_per_step": t_train * batch_size / n,
            "parameters": sum(p.numel() for p in model.parameters()),
            "triplets_per_structure": triplets,
            "bonds_per_structure": float(np.mean([p[0].num_edges for p in pairs]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batches", type=int, default=6,
                        help="timed batches (plus one warm-up batch), the same for both models")
    parser.add_argument("--repeats", type=int, default=5,
                        help="passes of our models over the timed batches (alignn: one)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", default=str(Path(__file__).with_name(
        "results_model_throughput.json")))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ds = load_jarvis_phonon_benchmark().split("train").with_structures()
    crystals = [r.crystal for r in ds.records[:args.batch_size * (args.batches + 1)]]
    print(f"{len(crystals)} JARVIS training structures (first batch untimed warm-up), "
          f"{np.mean([c.n_atoms for c in crystals]):.1f} atoms on average; batch "
          f"{args.batch_size}; {torch.get_num_threads()} threads")
    res_ours = ours(crystals, args.batch_size, "fast", args.repeats)
    res_wide = ours(crystals, args.batch_size, "fast-wide", args.repeats)
    res_alignn = alignn_paper(crystals, args.batch_size)
    header = f"{'model':44s} {'train struct/s':>15s} {'infer struct/s':>15s} {'params':>10s} " \
             f"{'triplets/struct':>16s}"
    print(header)
    for name, r in (("crystaldos fast (2+1, hidden 128, lg 32)", res_ours),
                    ("crystaldos fast-wide (3+3, head 128)", res_wide),
                    ("alignn ALIGNNAtomWisePure (4+4, hidden 256)", res_alignn)):
        print(f"{name:44s} {r['train_structures_per_s']:15.1f} "
              f"{r['infer_structures_per_s']:15.1f} {r['parameters']:10d} "
              f"{r['triplets_per_structure']:16.0f}")
    speed_train = res_ours["train_structures_per_s"] / res_alignn["train_structures_per_s"]
    speed_inf = res_ours["infer_structures_per_s"] / res_alignn["infer_structures_per_s"]
    print(f"training speed-up {speed_train:.1f}x, inference speed-up {speed_inf:.1f}x; alignn "
          f"{res_alignn['train_seconds_per_step']:.2f} s per training step of "
          f"{args.batch_size}")
    wide_train = res_wide["train_structures_per_s"] / res_alignn["train_structures_per_s"]
    print(f"fast-wide (the bundled models' size): training speed-up {wide_train:.1f}x")
    result = {"ours": res_ours, "ours_fast_wide": res_wide, "alignn_paper": res_alignn,
              "train_speedup": speed_train, "train_speedup_fast_wide": wide_train,
              "inference_speedup": speed_inf, "structures": len(crystals),
              "batch_size": args.batch_size, "timed_batches": args.batches,
              "threads": torch.get_num_threads(),
              "torch": torch.__version__, "machine": platform.processor() or platform.machine()}
    Path(args.output).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
