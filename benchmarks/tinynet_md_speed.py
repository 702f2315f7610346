"""Time per MD step on a 160-atom BaTiO3 supercell: TinyNet (moments embedding + per-element nets)
against CHGNet (pretrained universal potential, the deep-potential peer), in one run.

Both drive the same ASE velocity-Verlet integrator (1 fs) from the same rattled start on the same
number of threads; each calculator gets one warm-up step, then ``--steps`` timed steps. The last
line printed is one JSON object.

    OMP_NUM_THREADS=1 python benchmarks/tinynet_md_speed.py --threads 1
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings

import numpy as np
import torch
from ase import units
from ase.md.verlet import VelocityVerlet
from ase.spacegroup import crystal

from crystaldos.calculators import TinyNetCalculator
from crystaldos.pretrained.tinynet import load_pretrained_tinynet
from crystaldos.structures.readers import from_ase


def supercell() -> object:
    cubic = crystal(["Ba", "Ti", "O"], basis=[(0, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0)],
                    spacegroup=221, cellpar=[4.0, 4.0, 4.0, 90, 90, 90])
    atoms = cubic.repeat((4, 4, 2))
    atoms.rattle(0.03, seed=0)
    return atoms


def ms_per_step(calculator: object, steps: int) -> float:
    atoms = supercell()
    atoms.calc = calculator
    md = VelocityVerlet(atoms, 1.0 * units.fs)
    md.run(1)  # warm-up: first force call, lazy initialisation
    start = time.perf_counter()
    md.run(steps)
    return 1e3 * (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tinynet-batio3-xtb-L6N4")
    parser.add_argument("--steps", type=int, default=50, help="timed TinyNet steps")
    parser.add_argument("--chgnet-steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")

    bundle = load_pretrained_tinynet(args.model)
    cell = from_ase(supercell())
    bundle.embedding(cell)
    embed_times = []
    for _ in range(10):
        start = time.perf_counter()
        bundle.embedding(cell)
        embed_times.append(time.perf_counter() - start)
    tinynet = ms_per_step(TinyNetCalculator(bundle), args.steps)
    print(f"TinyNet {args.model} ({bundle.embedding.max_length=}, "
          f"{bundle.embedding.n_neighbors=}): {tinynet:.1f} ms/step, embedding "
          f"{1e3 * float(np.median(embed_times)):.1f} ms", flush=True)

    from chgnet import __version__ as chgnet_version
    from chgnet.model import CHGNet
    from chgnet.model.dynamics import CHGNetCalculator

    chgnet = ms_per_step(CHGNetCalculator(model=CHGNet.load(verbose=False), use_device="cpu"),
                         args.chgnet_steps)
    print(f"CHGNet {chgnet_version}: {chgnet:.1f} ms/step", flush=True)
    print(json.dumps({"atoms": cell.n_atoms, "threads": args.threads, "model": args.model,
                      "tinynet_ms_per_step": round(tinynet, 2),
                      "embedding_ms": round(1e3 * float(np.median(embed_times)), 2),
                      "chgnet_ms_per_step": round(chgnet, 1),
                      "speedup": round(chgnet / tinynet, 1), "chgnet": chgnet_version,
                      "cpu": platform.processor() or platform.machine()}))


if __name__ == "__main__":
    from crystaldos.errors import CrystalDosError

    try:
        main()
    except CrystalDosError as err:  # bad input: one line naming it, no traceback
        raise SystemExit(f"error: {err}") from None
