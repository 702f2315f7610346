"""Self-made labelled frames with a known answer, for TinyNet tests (no engine needed).

Rattled rocksalt NaCl: forces from harmonic springs to the 6 nearest neighbours (so they depend
on the neighbour geometry), local DOS a Gaussian whose centre follows sum_j exp(-2 d_ij) over the
atom's 6 nearest (unlike) neighbours: the bond part of the second moment, as the moments
embedding sees it.
"""

from __future__ import annotations

import numpy as np

from crystaldos.graphs.neighbors import radius_neighbors
from crystaldos.reference.frames import FrameSet
from crystaldos.structures.readers import from_arrays
from tests.conftest import rocksalt

GRID = np.linspace(-4.0, 4.0, 33)


def spring_frames(n_frames: int, seed: int, rattle: float = 0.08) -> FrameSet:
    rng = np.random.default_rng(seed)
    base = rocksalt(4.6)
    positions, forces, ldos = [], [], []
    for _ in range(n_frames):
        pos = base.positions + rng.normal(0, rattle, base.positions.shape)
        crystal = from_arrays(base.lattice, base.species, positions=pos, validate=False)
        nb = radius_neighbors(crystal, 2.9)
        f = np.zeros((8, 3))
        stretch = nb.distances - 2.3
        np.add.at(f, nb.centers, 5.0 * stretch[:, None] * nb.vectors / nb.distances[:, None])
        second_moment = np.zeros(8)
        np.add.at(second_moment, nb.centers, np.exp(-2.0 * nb.distances))
        centre = 150.0 * (second_moment - 6 * np.exp(-4.6))
        centre += np.where(crystal.numbers == 11, 1.0, -1.0)
        positions.append(pos)
        forces.append(f)
        ldos.append(np.exp(-0.5 * ((GRID[None, :] - centre[:, None]) / 0.6) ** 2))
    n = len(positions)
    return FrameSet(numbers=base.numbers, cells=np.repeat(base.lattice[None], n, axis=0),
                    positions=np.stack(positions), forces=np.stack(forces),
                    energies=np.zeros(n), ldos=np.stack(ldos).astype(np.float32), grid=GRID,
                    trajectory=np.full(n, seed), recipe={"name": f"springs{seed}"})
