"""Periodic neighbour lists (vesin) and the k-nearest-shell selection used by crystal graphs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vesin import NeighborList as _VesinNeighborList

from crystaldos.errors import StructureError
from crystaldos.structures.crystal import Crystal

#: two neighbours whose distances differ by less than this (Å) belong to the same shell.
SHELL_TOLERANCE_A = 1e-3


@dataclass(frozen=True)
class Neighbors:
    """Directed pairs (center i, neighbour j in cell image S), sorted by center then distance.

    Attributes:
        centers: (E,) int64 atom i.
        neighbors: (E,) int64 atom j.
        shifts: (E, 3) int64 image S of atom j (in lattice vectors).
        vectors: (E, 3) float64 ``r_j + S @ lattice - r_i`` in Å (from the center to the neighbour).
        distances: (E,) float64 ``|vectors|`` in Å.
    """

    centers: np.ndarray
    neighbors: np.ndarray
    shifts: np.ndarray
    vectors: np.ndarray
    distances: np.ndarray

    def __len__(self) -> int:
        return int(self.centers.shape[0])


def radius_neighbors(crystal: Crystal, cutoff: float) -> Neighbors:
    """Every (i, j, S) with ``0 < |r_j + S L - r_i| <= cutoff`` (both directions of each pair)."""
    return _radius_pairs(crystal, cutoff).with_vectors(crystal)


@dataclass(frozen=True)
class _Pairs:
    """Neighbour pairs before their vectors are computed (vectors only for the pairs kept)."""

    centers: np.ndarray
    neighbors: np.ndarray
    shifts: np.ndarray
    distances: np.ndarray

    def select(self, mask: np.ndarray) -> _Pairs:
        return _Pairs(self.centers[mask], self.neighbors[mask], self.shifts[mask],
                      self.distances[mask])

    def with_vectors(self, crystal: Crystal) -> Neighbors:
        vectors = (crystal.positions[self.neighbors] + self.shifts @ crystal.lattice
                   - crystal.positions[self.centers])
        return Neighbors(self.centers, self.neighbors, self.shifts, vectors, self.distances)


def _radius_pairs(crystal: Crystal, cutoff: float) -> _Pairs:
    if cutoff <= 0:
        raise ValueError("cutoff must be positive")
    calculator = _VesinNeighborList(cutoff=float(cutoff), full_list=True)
    # copy=False gives views into `calculator`, valid while it lives: copy out before returning
    i, j, s, dist = calculator.compute(points=crystal.positions, box=crystal.lattice,
                                       periodic=True, quantities="ijSd", copy=False)
    order = np.lexsort((dist, i))
    pairs = _Pairs(i[order].astype(np.int64), j[order].astype(np.int64),
                   s[order].astype(np.int64), dist[order])
    del calculator
    return pairs


def _initial_radius(crystal: Crystal, k: int) -> float:
    """Radius of a sphere expected to hold about 1.5 (k + 1) atoms at the crystal's density."""
    density = crystal.n_atoms / crystal.volume
    return float((3.0 * 1.5 * (k + 1) / (4.0 * np.pi * density)) ** (1.0 / 3.0))


def check_isolated(crystal: Crystal, centers: np.ndarray, cutoff: float) -> None:
    """Raise StructureError if an atom has no neighbour (no entry in ``centers``)."""
    counts = np.bincount(centers, minlength=crystal.n_atoms)
    if np.any(counts == 0):
        atom = int(np.argmin(counts))
        raise StructureError(crystal.source, f"atom {atom} ({crystal.species[atom]}) has no "
                                             f"neighbour within the graph cutoff {cutoff:g} Å")


def knn_neighbors(crystal: Crystal, k: int, cutoff: float = 8.0, *, symmetric: bool = True,
                  shell_tolerance: float = SHELL_TOLERANCE_A) -> Neighbors:
    """Neighbours out to each atom's k-th nearest distance, never cutting a shell.

    Atom i keeps every neighbour j with ``d_ij <= d_k(i) + shell_tolerance``, where ``d_k(i)`` is
    the distance of i's k-th nearest neighbour (periodic images count), capped at ``cutoff`` (Å):
    an atom with fewer than k neighbours inside ``cutoff`` keeps all it has there. With
    ``symmetric`` (the default) the pair is kept in both directions if either atom keeps it,
    so ``d_ij <= max(d_k(i), d_k(j)) + tol``. Raises StructureError if an atom has no neighbour
    within ``cutoff``.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    radius = min(cutoff, _initial_radius(crystal, k))
    while True:
        pairs = _radius_pairs(crystal, radius)
        counts = np.bincount(pairs.centers, minlength=crystal.n_atoms)
        if radius >= cutoff or counts.min() > k:
            break
        radius = min(cutoff, radius * 1.5)
    check_isolated(crystal, pairs.centers, cutoff)
    ptr = np.concatenate([[0], np.cumsum(counts)])
    kth = pairs.distances[ptr[:-1] + np.minimum(counts, k) - 1]
    # the k-th distance is only final if the shell beyond it was seen (radius covers it + tol)
    if radius < cutoff and np.any(kth + shell_tolerance > radius):
        # rare: a neighbour sits within tolerance of the search radius; widen once and redo
        pairs = _radius_pairs(crystal, min(cutoff, float(kth.max()) + 2 * shell_tolerance))
    limit = kth + shell_tolerance
    if symmetric:
        keep = pairs.distances <= np.maximum(limit[pairs.centers], limit[pairs.neighbors])
    else:
        keep = pairs.distances <= limit[pairs.centers]
    return pairs.select(keep).with_vectors(crystal)
