"""Labelled MD frames: positions, forces and per-atom local DOS of one system, saved as .npz.

One file holds the frames of one system (fixed atoms and species, varying positions and cell),
the energy grid, the trajectory each frame came from, and the recipe that made it (JSON).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.errors import DatasetError
from crystaldos.safe_io import atomic_target
from crystaldos.structures.crystal import Crystal

_ARRAYS = ("numbers", "cells", "positions", "forces", "energies", "ldos", "grid", "trajectory")


@dataclass(frozen=True)
class FrameSet:
    """Frames of one system.

    Attributes:
        numbers: (N,) atomic numbers.
        cells: (F, 3, 3) Å, rows are cell vectors.
        positions: (F, N, 3) Å.
        forces: (F, N, 3) eV/Å.
        energies: (F,) eV.
        ldos: (F, N, G) states/eV per atom, float32.
        grid: (G,) eV relative to the midgap of each frame.
        trajectory: (F,) int, the trajectory a frame came from (held-out frames use their own).
        recipe: how the frames were made (engine, MD settings, smearing...).
    """

    numbers: np.ndarray
    cells: np.ndarray
    positions: np.ndarray
    forces: np.ndarray
    energies: np.ndarray
    ldos: np.ndarray
    grid: np.ndarray
    trajectory: np.ndarray
    recipe: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.positions.shape[0])

    @property
    def n_atoms(self) -> int:
        return int(self.numbers.size)

    def crystal(self, index: int) -> Crystal:
        return Crystal(self.cells[index], self.numbers, self.positions[index],
                       id=f"frame{index}", source=f"{self.recipe.get('name', 'frames')}#{index}")

    def subset(self, index: Sequence[int] | np.ndarray) -> FrameSet:
        idx = np.asarray(index, dtype=np.int64)
        return FrameSet(self.numbers, self.cells[idx], self.positions[idx], self.forces[idx],
                        self.energies[idx], self.ldos[idx], self.grid, self.trajectory[idx],
                        dict(self.recipe))

    @classmethod
    def concatenate(cls, parts: Sequence[FrameSet]) -> FrameSet:
        """Frames of several files of the same system and grid (e.g. trajectories labelled by
        separate processes), in order; the recipe is the first part's, with every part's
        ``failed_frames`` and ``scf_retries`` kept under its trajectory ids."""
        first = parts[0]
        for part in parts[1:]:
            if not (np.array_equal(part.numbers, first.numbers)
                    and np.array_equal(part.grid, first.grid)):
                raise ValueError("frames of different systems or grids cannot be joined")
        recipe = dict(first.recipe)
        if len(parts) > 1:
            recipe["parts"] = [{"trajectories": sorted(set(p.trajectory.tolist())),
                                "failed_frames": p.recipe.get("failed_frames", {}),
                                "scf_retries": p.recipe.get("scf_retries", {})} for p in parts]
        return cls(first.numbers, *(np.concatenate([getattr(p, k) for p in parts])
                                    for k in ("cells", "positions", "forces", "energies",
                                              "ldos")),
                   first.grid, np.concatenate([p.trajectory for p in parts]), recipe)

    def save(self, path: str | Path) -> Path:
        """Write atomically (temporary file, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(path) as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, **{k: getattr(self, k) for k in _ARRAYS},
                                recipe=np.array(json.dumps(self.recipe)))
        return path

    @classmethod
    def load(cls, path: str | Path) -> FrameSet:
        path = Path(path)
        if not path.is_file():
            raise DatasetError(str(path), "frame file not found")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in _ARRAYS}
                recipe = json.loads(str(data["recipe"]))
        except (KeyError, ValueError, OSError) as err:
            raise DatasetError(str(path), f"not a crystaldos frame file ({err})") from None
        frames = cls(**arrays, recipe=recipe)
        f, n = frames.positions.shape[:2]
        expected = {"cells": (f, 3, 3), "forces": (f, n, 3), "energies": (f,),
                    "ldos": (f, n, frames.grid.size), "trajectory": (f,), "numbers": (n,)}
        for key, shape in expected.items():
            if getattr(frames, key).shape != shape:
                raise DatasetError(str(path), f"'{key}' has shape {getattr(frames, key).shape}, "
                                              f"expected {shape}")
        return frames
