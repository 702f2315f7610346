"""The moments-theorem embedding L_n^(N): self-returning bond paths plus nearest-neighbour geometry.

The n-th moment of an atom's local DOS is a sum over self-returning paths of n bonds. Here each
path contributes exp(-sum of its bond lengths), and the sum over all closed walks of length n
from atom i is (A^n)_ii of the weighted adjacency A = exp(-d) *of the infinite crystal*.

Periodic images are handled exactly: a walk must come back to the same atom in the same cell,
not to another image of it. A closed walk of n bonds never goes further than floor(n/2) bonds
from its start, so the walks are counted on the finite graph of (atom, cell image) nodes within
floor(n/2) bonds of the home cell, found by a vectorized breadth-first search. On that graph,
sparse matrix products propagate all home atoms at once (no Python loop over paths). This is
exact even for a cell smaller than the bond cutoff, where an atom bonds to its own images.

Species groups: the walk sums are split by the species of the first atom visited,
(A^(n-1) D_s A)_ii with D_s the mask of species s. The vector per atom has a fixed length
(n_max - 1) x len(species) whatever the structure, and the groups sum to the plain walk sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from crystaldos.errors import StructureError
from crystaldos.graphs.neighbors import Neighbors, radius_neighbors
from crystaldos.structures.crystal import Crystal


@dataclass(frozen=True)
class BondList:
    """Directed bonds i -> (j, image shift) with lengths, both directions of every bond."""

    centers: np.ndarray
    neighbors: np.ndarray
    shifts: np.ndarray
    lengths: np.ndarray
    vectors: np.ndarray


def bond_cutoff(crystal: Crystal, factor: float = 1.2) -> float:
    """The longest bond the covalent-radius criterion allows in this crystal, Å."""
    return factor * 2.0 * float(_covalent_radii(crystal).max())


def _covalent_radii(crystal: Crystal) -> np.ndarray:
    from crystaldos.elements import property_array

    radii = property_array("covalent_radius_A")[crystal.numbers]
    if np.any(~np.isfinite(radii)):
        raise StructureError(crystal.source, "an element has no covalent radius")
    return radii


def bonded_pairs(crystal: Crystal, factor: float = 1.2,
                 neighbors: Neighbors | None = None) -> BondList:
    """Bonds between atoms closer than ``factor`` x (covalent radius i + covalent radius j).

    ``neighbors``: a radius neighbour list of at least :func:`bond_cutoff` to filter, so that a
    caller that needs a longer list anyway computes it once.
    """
    radii = _covalent_radii(crystal)
    nb = radius_neighbors(crystal, bond_cutoff(crystal, factor)) if neighbors is None \
        else neighbors
    keep = nb.distances <= factor * (radii[nb.centers] + radii[nb.neighbors])
    return BondList(nb.centers[keep], nb.neighbors[keep], nb.shifts[keep], nb.distances[keep],
                    nb.vectors[keep])


def _walk_graph(n_atoms: int, bonds: BondList, hops: int
                ) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Adjacency exp(-d) on the (atom, image) nodes within ``hops`` bonds of the home cell.

    Returns (A, node_atom): the sparse matrix and the atom of every node; nodes 0..N-1 are the
    home atoms (atom i in image 0). Vectorized breadth-first search: nodes are integer keys
    encoding (atom, image).
    """
    order = np.argsort(bonds.centers, kind="stable")
    c, nbr, sh, w = (bonds.centers[order], bonds.neighbors[order], bonds.shifts[order],
                     np.exp(-bonds.lengths[order]))
    start = np.searchsorted(c, np.arange(n_atoms + 1))
    counts = np.diff(start)
    reach = (hops + 1) * (int(np.abs(sh).max()) if sh.size else 0) + 1
    base = 2 * reach + 1

    def encode(atom: np.ndarray, image: np.ndarray) -> np.ndarray:
        shifted = image + reach
        return ((atom * base + shifted[:, 0]) * base + shifted[:, 1]) * base + shifted[:, 2]

    def decode(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = key % base
        y = (key // base) % base
        x = (key // base**2) % base
        return key // base**3, np.column_stack([x, y, z]) - reach

    levels = [encode(np.arange(n_atoms), np.zeros((n_atoms, 3), dtype=np.int64))]
    known = np.sort(levels[0])
    src_keys, dst_keys, weights = [], [], []
    for depth in range(hops + 1):
        atom, image = decode(levels[-1])
        rep = np.repeat(np.arange(atom.size), counts[atom])
        if rep.size == 0:
            break
        # the bonds of each frontier node, in CSR order
        offsets = np.arange(rep.size) - np.repeat(np.cumsum(counts[atom]) - counts[atom],
                                                  counts[atom])
        edge = start[atom[rep]] + offsets
        dst = encode(nbr[edge], image[rep] + sh[edge])
        src_keys.append(levels[-1][rep])
        dst_keys.append(dst)
        weights.append(w[edge])
        if depth == hops:
            break
        fresh = np.unique(dst)
        fresh = fresh[~np.isin(fresh, known, assume_unique=True)]
        if fresh.size == 0:
            break
        levels.append(fresh)
        known = np.union1d(known, fresh)
    all_keys = np.concatenate(levels)
    lookup = np.argsort(all_keys)
    sorted_keys = all_keys[lookup]
    src = np.concatenate(src_keys)
    dst = np.concatenate(dst_keys)
    val = np.concatenate(weights)
    pos = np.searchsorted(sorted_keys, dst)
    inside = (pos < sorted_keys.size) & (sorted_keys[np.minimum(pos, sorted_keys.size - 1)]
                                         == dst)
    rows = lookup[np.searchsorted(sorted_keys, src[inside])]
    cols = lookup[pos[inside]]
    size = all_keys.size
    a = sparse.csr_matrix((val[inside], (rows, cols)), shape=(size, size))
    return a, decode(all_keys)[0]


def closed_walk_sums(crystal: Crystal, max_length: int, *, species: Sequence[int] | None = None,
                     factor: float = 1.2, bonds: BondList | None = None) -> np.ndarray:
    """(N, max_length - 1, S) sums of exp(-total bond length) over closed walks of length
    2..max_length from each atom, split by the species of the first atom visited (atomic numbers
    ``species``; default: the crystal's own, sorted)."""
    if max_length < 2:
        raise ValueError("max_length must be at least 2")
    bonds = bonded_pairs(crystal, factor) if bonds is None else bonds
    species = sorted(set(crystal.numbers.tolist())) if species is None else list(species)
    n = crystal.n_atoms
    a, node_atom = _walk_graph(n, bonds, max_length // 2)
    home = np.arange(n)
    first = a[home].T.tocsr()  # (nodes, N): one step from each home atom
    z = crystal.numbers[node_atom]
    out = np.zeros((n, max_length - 1, len(species)))
    for k, s in enumerate(species):
        y = sparse.diags((z == s).astype(np.float64)) @ first
        for length in range(2, max_length + 1):
            y = a @ y
            out[:, length - 2, k] = np.asarray(y[home, np.arange(n)]).ravel()
    return out


@dataclass(frozen=True)
class MomentsEmbedding:
    """L_n^(N): closed-walk sums of lengths 2..n by first-visited species, then the relative
    Cartesian coordinates (Å) of the N nearest neighbours sorted by distance, each followed by
    a one-hot of its species. Length: (n - 1) S + N (3 + S) for S = len(species)."""

    species: tuple[int, ...]
    max_length: int = 4
    n_neighbors: int = 2
    bond_factor: float = 1.2
    neighbor_cutoff: float = 6.0

    @property
    def size(self) -> int:
        s = len(self.species)
        return (self.max_length - 1) * s + self.n_neighbors * (3 + s)

    def __call__(self, crystal: Crystal) -> np.ndarray:
        """(N_atoms, size) float64 embedding of every atom."""
        unknown = set(crystal.numbers.tolist()) - set(self.species)
        if unknown:
            raise StructureError(crystal.source, f"elements {sorted(unknown)} are not in the "
                                                 f"embedding's species {list(self.species)}")
        # one neighbour list serves both the bonds and the nearest-neighbour geometry
        nb = radius_neighbors(crystal, max(self.neighbor_cutoff,
                                           bond_cutoff(crystal, self.bond_factor)))
        bonds = bonded_pairs(crystal, self.bond_factor, nb)
        walks = closed_walk_sums(crystal, self.max_length, species=self.species,
                                 bonds=bonds).reshape(crystal.n_atoms, -1)
        if self.n_neighbors == 0:
            return walks
        s = len(self.species)
        index = {z: k for k, z in enumerate(self.species)}
        geometry = np.zeros((crystal.n_atoms, self.n_neighbors, 3 + s))
        start = np.searchsorted(nb.centers, np.arange(crystal.n_atoms + 1))
        for i in range(crystal.n_atoms):
            lo, hi = start[i], min(start[i + 1], start[i] + self.n_neighbors)
            if hi - lo < self.n_neighbors or nb.distances[hi - 1] > self.neighbor_cutoff:
                raise StructureError(crystal.source, f"atom {i} has fewer than "
                                     f"{self.n_neighbors} neighbours within "
                                     f"{self.neighbor_cutoff} Å")
            geometry[i, :, :3] = nb.vectors[lo:hi]
            kinds = [index[int(z)] for z in crystal.numbers[nb.neighbors[lo:hi]]]
            geometry[i, np.arange(hi - lo), 3 + np.array(kinds)] = 1
        return np.concatenate([walks, geometry.reshape(crystal.n_atoms, -1)], axis=1)
