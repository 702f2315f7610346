"""Reference neighbour search by enumerating periodic images (slow, obviously correct)."""

from __future__ import annotations

import itertools

import numpy as np

from crystaldos.structures import Crystal

Pair = tuple[int, int, tuple[int, int, int]]


def all_pairs(crystal: Crystal, cutoff: float) -> dict[Pair, float]:
    """{(i, j, shift): distance} for every pair with 0 < d <= cutoff."""
    lattice = crystal.lattice
    # images needed: enough repeats along each axis to cover the cutoff sphere
    heights = crystal.volume / np.linalg.norm(np.cross(lattice[[1, 2, 0]], lattice[[2, 0, 1]]),
                                              axis=1)
    reps = np.ceil(cutoff / heights).astype(int) + 1
    out = {}
    ranges = [range(-r, r + 1) for r in reps]
    for shift in itertools.product(*ranges):
        offset = np.asarray(shift) @ lattice
        for i in range(crystal.n_atoms):
            for j in range(crystal.n_atoms):
                d = float(np.linalg.norm(crystal.positions[j] + offset - crystal.positions[i]))
                if 1e-8 < d <= cutoff:
                    out[(i, j, tuple(int(s) for s in shift))] = d
    return out


def knn_reference(crystal: Crystal, k: int, cutoff: float, tol: float = 1e-3,
                  symmetric: bool = True) -> set[tuple[int, int, tuple[int, int, int]]]:
    pairs = all_pairs(crystal, cutoff)
    kth = {}
    for i in range(crystal.n_atoms):
        dists = sorted(d for (a, _, _), d in pairs.items() if a == i)
        kth[i] = dists[min(k, len(dists)) - 1] + tol
    keep = set()
    for (i, j, s), d in pairs.items():
        limit = max(kth[i], kth[j]) if symmetric else kth[i]
        if d <= limit:
            keep.add((i, j, s))
    return keep
