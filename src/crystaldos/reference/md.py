"""Sample configurations by molecular dynamics and label them with GFN-xTB.

Sampling and labelling are separate: any ASE calculator drives the MD (a universal potential is
fast and close to DFT); every sampled frame is then labelled by a GFN-xTB single point (forces
and per-atom local DOS). Labelling is resumable: finished frames are checkpointed next to the
output, and a rerun with the same recipe continues from them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.reference.frames import FrameSet
from crystaldos.reference.xtb import (
    SCF_ATTEMPTS,
    ReferenceCalculationError,
    local_dos,
    robust_singlepoint,
)
from crystaldos.safe_io import atomic_target


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
    frames and reused by a rerun whose recipe is identical. A frame whose SCF does not converge
    is retried with the steadier settings of :data:`SCF_ATTEMPTS`; the recipe of the result
    lists the frames that needed them (``scf_retries``: frame -> [T_el K, damping]). A frame
    that fails with every setting is left out and listed with its reason (``failed_frames``);
    the run goes on.
    """
    output = Path(output)
    partial = output.with_name(output.name + ".partial.npz")
    recipe = {**recipe, "engine": f"tblite {method}", "sigma_eV": sigma,
              "grid_eV": [float(grid[0]), float(grid[-1]), int(grid.size)]}
    keys = ("index", "forces", "energies", "ldos", "attempt", "failed", "reason")
    done: dict[str, list[Any]] = {k: [] for k in keys}
    if partial.is_file():
        with np.load(partial, allow_pickle=False) as data:
            if json.loads(str(data["recipe"])) == recipe:
                count = len(data["energies"])
                defaults = {"index": list(range(count)), "attempt": [0] * count}
                done = {k: list(data[k]) if k in data else defaults.get(k, []) for k in keys}
    numbers = np.asarray(frames[0].numbers)

    def checkpoint() -> None:
        arrays = {k: np.asarray(v) for k, v in done.items()}
        arrays["reason"] = np.asarray(done["reason"], dtype=str)
        with atomic_target(partial) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, recipe=np.array(json.dumps(recipe)), **arrays)

    finished = [int(v) for v in done["index"]] + [int(v) for v in done["failed"]]
    for index in range(max(finished, default=-1) + 1, len(frames)):
        where = f"{recipe.get('name')}#{index}"
        try:
            result, attempt = robust_singlepoint(frames[index], method=method, source=where)
        except ReferenceCalculationError as err:  # recorded, and the run goes on
            done["failed"].append(index)
            done["reason"].append(str(err))
        else:
            done["index"].append(index)
            done["attempt"].append(attempt)
            done["forces"].append(result.forces)
            done["energies"].append(np.float64(result.energy))
            done["ldos"].append(local_dos(result, grid, sigma).astype(np.float32))
        if (index + 1) % checkpoint_every == 0:
            checkpoint()
        if progress is not None:
            progress(index + 1, len(frames))
    if not done["index"]:
        raise ReferenceCalculationError(str(output), "no frame could be labelled")
    kept = [int(v) for v in done["index"]]
    result_set = FrameSet(
        numbers=numbers,
        cells=np.stack([np.asarray(frames[k].cell.array) for k in kept]),
        positions=np.stack([np.asarray(frames[k].positions) for k in kept]),
        forces=np.stack(done["forces"]), energies=np.asarray(done["energies"]),
        ldos=np.stack(done["ldos"]), grid=np.asarray(grid, dtype=np.float64),
        trajectory=np.asarray(trajectory, dtype=np.int64)[kept],
        recipe={**recipe,
                "scf_retries": {str(k): list(SCF_ATTEMPTS[int(a)])
                                for k, a in zip(kept, done["attempt"], strict=True) if a},
                "failed_frames": {str(int(k)): str(r)
                                  for k, r in zip(done["failed"], done["reason"], strict=True)},
                "sampled_frames": len(frames)})
    result_set.save(output)
    partial.unlink(missing_ok=True)
    return result_set
