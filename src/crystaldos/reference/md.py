"""Sample configurations by molecular dynamics and label them with GFN-xTB.

Sampling and labelling are separate: any ASE calculator drives the MD (a universal potential is
fast and close to DFT); every sampled frame is then labelled by a GFN-xTB single point (forces
and per-atom local DOS). Labelling is resumable: finished frames are checkpointed next to the
output, and a rerun with the same recipe continues from them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.reference.frames import FrameSet
from crystaldos.reference.xtb import local_dos, xtb_singlepoint


def sample_md(atoms: Any, calculator: Any, *, n_frames: int, stride: int, equilibration: int,
              temperature: float, timestep_fs: float = 2.0, friction: float = 0.02,
              seed: int = 0) -> list[Any]:
    """Langevin MD at ``temperature`` K; after ``equilibration`` steps, keep every ``stride``-th
    step until ``n_frames`` frames. Returns copies of ``ase.Atoms`` without calculators."""
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary

    atoms = atoms.copy()
    atoms.calc = calculator
    rng = np.random.default_rng(seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
    Stationary(atoms)
    md = Langevin(atoms, timestep_fs * units.fs, temperature_K=temperature, friction=friction,
                  rng=rng)
    md.run(equilibration)
    frames = []
    for _ in range(n_frames):
        md.run(stride)
        frame = atoms.copy()
        frame.calc = None
        frames.append(frame)
    return frames


def label_frames(frames: Sequence[Any], trajectory: Sequence[int], output: str | Path, *,
                 grid: np.ndarray, sigma: float, recipe: dict[str, Any],
                 method: str = "GFN2-xTB", checkpoint_every: int = 5,
                 progress: Callable[[int, int], None] | None = None) -> FrameSet:
    """Label ``frames`` with GFN-xTB and save them to ``output``; resumable.

    Finished frames are checkpointed to ``output + '.partial.npz'`` every ``checkpoint_every``
    frames and reused by a rerun whose recipe is identical.
    """
    output = Path(output)
    partial = output.with_name(output.name + ".partial.npz")
    recipe = {**recipe, "engine": f"tblite {method}", "sigma_eV": sigma,
              "grid_eV": [float(grid[0]), float(grid[-1]), int(grid.size)]}
    done: dict[str, list[np.ndarray]] = {"forces": [], "energies": [], "ldos": []}
    if partial.is_file():
        with np.load(partial, allow_pickle=False) as data:
            if json.loads(str(data["recipe"])) == recipe:
                done = {k: list(data[k]) for k in done}
    numbers = np.asarray(frames[0].numbers)

    def checkpoint() -> None:
        tmp = partial.with_name(partial.name + ".tmp.npz")
        np.savez(tmp, recipe=np.array(json.dumps(recipe)),
                 **{k: np.asarray(v) for k, v in done.items()})
        os.replace(tmp, partial)

    for index in range(len(done["energies"]), len(frames)):
        frame = frames[index]
        result = xtb_singlepoint(frame, method=method, source=f"{recipe.get('name')}#{index}")
        done["forces"].append(result.forces)
        done["energies"].append(np.float64(result.energy))
        done["ldos"].append(local_dos(result, grid, sigma).astype(np.float32))
        if (index + 1) % checkpoint_every == 0:
            checkpoint()
        if progress is not None:
            progress(index + 1, len(frames))
    result_set = FrameSet(
        numbers=numbers,
        cells=np.stack([np.asarray(f.cell.array) for f in frames]),
        positions=np.stack([np.asarray(f.positions) for f in frames]),
        forces=np.stack(done["forces"]), energies=np.asarray(done["energies"]),
        ldos=np.stack(done["ldos"]), grid=np.asarray(grid, dtype=np.float64),
        trajectory=np.asarray(trajectory, dtype=np.int64), recipe=recipe)
    result_set.save(output)
    partial.unlink(missing_ok=True)
    return result_set
