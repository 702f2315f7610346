"""Make the TinyNet reference frames: MD of a real supercell, labelled by GFN2-xTB.

Configurations come from Langevin MD driven by CHGNet (pretrained, offline; fast and close to
DFT); each sampled frame is then labelled with a GFN2-xTB single point through tblite: forces and
the Mulliken-projected local DOS of every atom. Trajectory 0 (seed 0) is for training and
validation, trajectory 1 (seed 1) is held out. Sampled frames are cached as extxyz and labelling
checkpoints every 5 frames, so a rerun resumes.

    OMP_NUM_THREADS=1 python scripts/make_md_reference.py batio3 --out runs/reference/batio3.npz
    OMP_NUM_THREADS=1 python scripts/make_md_reference.py moo3 --out runs/reference/moo3.npz

Structures (read from ../shared/datasets): BaTiO3 = JARVIS JVASP-110 (tetragonal, 2x2x2 = 40
atoms); MoO3 = JARVIS JVASP-12010 (alpha, orthorhombic, 2x2x1 = 64 atoms).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

SYSTEMS = {"batio3": ("JVASP-110", (2, 2, 2)), "moo3": ("JVASP-12010", (2, 2, 1))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=sorted(SYSTEMS))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--frames", type=int, default=200, help="frames of trajectory 0")
    parser.add_argument("--heldout", type=int, default=100, help="frames of trajectory 1")
    parser.add_argument("--temperature", type=float, default=500.0, help="K")
    parser.add_argument("--stride", type=int, default=5, help="MD steps between frames")
    parser.add_argument("--equilibration", type=int, default=150, help="MD steps")
    parser.add_argument("--timestep", type=float, default=2.0, help="fs")
    parser.add_argument("--sigma", type=float, default=0.2, help="Gaussian smearing, eV")
    parser.add_argument("--emin", type=float, default=-12.0)
    parser.add_argument("--emax", type=float, default=6.0)
    parser.add_argument("--points", type=int, default=181)
    parser.add_argument("--sampled", type=Path, default=None,
                        help="sampled-frames cache (default: next to --out, .frames.extxyz)")
    parser.add_argument("--limit-per-trajectory", type=int, default=None,
                        help="label only the first K sampled frames of each trajectory")
    parser.add_argument("--only-trajectory", type=int, default=None,
                        help="label only this trajectory's frames (to share the work between "
                             "processes: each writes its own file; the study reads several)")
    args = parser.parse_args()

    from ase.io import read, write

    from crystaldos.datasets.shared import load_jarvis_phonon_benchmark
    from crystaldos.reference.md import label_frames, sample_md

    jid, repeat = SYSTEMS[args.system]
    sampled = args.sampled or args.out.with_name(args.out.stem + ".frames.extxyz")
    if sampled.is_file():
        frames = read(sampled, index=":")
        print(f"reusing {len(frames)} sampled frames from {sampled}", flush=True)
    else:
        from chgnet.model import CHGNet
        from chgnet.model.dynamics import CHGNetCalculator

        records = {r.id: r for r in load_jarvis_phonon_benchmark().records}
        atoms = records[jid].crystal.to_ase().repeat(repeat)
        calculator = CHGNetCalculator(model=CHGNet.load(verbose=False), use_device="cpu")
        frames = []
        for seed, count in ((0, args.frames), (1, args.heldout)):
            start = time.perf_counter()
            part = sample_md(atoms, calculator, n_frames=count, stride=args.stride,
                             equilibration=args.equilibration, temperature=args.temperature,
                             timestep_fs=args.timestep, seed=seed)
            for frame in part:
                frame.info["trajectory"] = seed
            frames += part
            print(f"trajectory {seed}: {count} frames in {time.perf_counter() - start:.0f} s",
                  flush=True)
        sampled.parent.mkdir(parents=True, exist_ok=True)
        write(sampled, frames)
    if args.only_trajectory is not None:
        frames = [f for f in frames if int(f.info["trajectory"]) == args.only_trajectory]
    if args.limit_per_trajectory is not None:
        seen: dict[int, int] = {}
        kept = []
        for f in frames:
            t = int(f.info["trajectory"])
            seen[t] = seen.get(t, 0) + 1
            if seen[t] <= args.limit_per_trajectory:
                kept.append(f)
        frames = kept
    trajectory = [int(f.info["trajectory"]) for f in frames]
    recipe = {"name": args.system, "structure": f"JARVIS {jid} x {repeat}",
              "sampler": "CHGNet 0.3.0 Langevin (ase), friction 0.02/fs",
              "temperature_K": args.temperature, "timestep_fs": args.timestep,
              "stride": args.stride, "equilibration_steps": args.equilibration,
              "trajectories": {"0": args.frames, "1": args.heldout},
              "ldos": "Mulliken projection of GFN2-xTB orbitals, states/eV/atom incl. spin, "
                      "energy zero at (HOMO+LUMO)/2"}
    grid = np.linspace(args.emin, args.emax, args.points)
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        rate = (time.perf_counter() - start) / max(done, 1)
        print(f"labelled {done}/{total}  {rate:.1f} s/frame", file=sys.stderr, flush=True)

    result = label_frames(frames, trajectory, args.out, grid=grid, sigma=args.sigma,
                          recipe=recipe, progress=progress)
    print(f"wrote {args.out}: {len(result)} frames of {result.n_atoms} atoms, "
          f"{time.perf_counter() - start:.0f} s labelling", flush=True)


if __name__ == "__main__":
    from crystaldos.errors import CrystalDosError

    try:
        main()
    except CrystalDosError as err:  # bad input: one line naming it, no traceback
        raise SystemExit(f"error: {err}") from None
