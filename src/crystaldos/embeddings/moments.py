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

Simple cycles (``paths="cycles"``): only closed paths that visit no (atom, image) node twice
before coming home, plus the out-and-back paths of length 2 (the second moment). They are
enumerated level by level as arrays of paths, bounded by ``max_paths``; the number of paths
grows like (coordination)^n, so this mode suits small n or sparse bond graphs.

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


def _path_graph(crystal: Crystal, max_length: int, species: Sequence[int] | None, factor: float,
                bonds: BondList | None) -> tuple[list[int], sparse.csr_matrix, np.ndarray]:
    """Checked arguments of the path sums: (species list, adjacency, node atoms) on the nodes a
    closed path of ``max_length`` bonds can reach."""
    if max_length < 2:
        raise ValueError("max_length must be at least 2")
    bonds = bonded_pairs(crystal, factor) if bonds is None else bonds
    species = sorted(set(crystal.numbers.tolist())) if species is None else list(species)
    a, node_atom = _walk_graph(crystal.n_atoms, bonds, max_length // 2)
    return species, a, node_atom


def closed_walk_sums(crystal: Crystal, max_length: int, *, species: Sequence[int] | None = None,
                     factor: float = 1.2, bonds: BondList | None = None) -> np.ndarray:
    """(N, max_length - 1, S) sums of exp(-total bond length) over closed walks of length
    2..max_length from each atom, split by the species of the first atom visited (atomic numbers
    ``species``; default: the crystal's own, sorted)."""
    species, a, node_atom = _path_graph(crystal, max_length, species, factor, bonds)
    n = crystal.n_atoms
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


def simple_cycle_sums(crystal: Crystal, max_length: int, *, species: Sequence[int] | None = None,
                      factor: float = 1.2, bonds: BondList | None = None,
                      max_paths: int = 5_000_000) -> np.ndarray:
    """Like :func:`closed_walk_sums`, over simple cycles only: (N, max_length - 1, S).

    Length 2 counts the out-and-back path over every bond; length >= 3 counts closed paths with
    no repeated node. Raises ``ValueError`` when more than ``max_paths`` open paths would be
    kept at one length.
    """
    species, a, node_atom = _path_graph(crystal, max_length, species, factor, bonds)
    n = crystal.n_atoms
    indptr, indices, data = a.indptr, a.indices, a.data
    group = np.full(crystal.numbers.max() + 1, -1)
    group[np.asarray(species)] = np.arange(len(species))
    out = np.zeros((n, max_length - 1, len(species)))
    paths = np.arange(n)[:, None]  # (P, length + 1) node sequences, column 0 = home atom
    weight = np.ones(n)
    for length in range(1, max_length + 1):
        last = paths[:, -1]
        degree = indptr[last + 1] - indptr[last]
        rep = np.repeat(np.arange(last.size), degree)
        offsets = np.arange(rep.size) - np.repeat(np.cumsum(degree) - degree, degree)
        edge = indptr[last[rep]] + offsets
        nxt = indices[edge]
        w = weight[rep] * data[edge]
        closes = nxt == paths[rep, 0]
        if length >= 2:  # length 2: out and back; longer: paths are simple, so these are cycles
            first = group[crystal.numbers[node_atom[paths[rep[closes], 1]]]]
            np.add.at(out, (paths[rep[closes], 0], length - 2, first), w[closes])
        if length == max_length:
            break
        fresh = ~np.any(paths[rep] == nxt[:, None], axis=1)
        if fresh.sum() > max_paths:
            raise ValueError(f"{crystal.source}: more than {max_paths} open paths of length "
                             f"{length}; use closed walks or a smaller max_length")
        paths = np.column_stack([paths[rep[fresh]], nxt[fresh]])
        weight = w[fresh]
    return out


@dataclass(frozen=True)
class MomentsEmbedding:
    """L_n^(N): closed-walk sums of lengths 2..n by first-visited species, then the relative
    Cartesian coordinates (Å) of the N nearest neighbours sorted by distance, each followed by
    a one-hot of its species. Length: (n - 1) S + N (3 + S) for S = len(species).

    ``paths``: ``"walks"`` (all closed walks, exact and fast) or ``"cycles"`` (simple cycles).
    """

    species: tuple[int, ...]
    max_length: int = 4
    n_neighbors: int = 2
    bond_factor: float = 1.2
    neighbor_cutoff: float = 6.0
    paths: str = "walks"

    def __post_init__(self) -> None:
        object.__setattr__(self, "species", tuple(int(z) for z in self.species))
        if self.paths not in ("walks", "cycles"):
            raise ValueError("paths must be 'walks' or 'cycles'")
        if self.max_length < 2 or self.n_neighbors < 0:
            raise ValueError("need max_length >= 2 and n_neighbors >= 0")

    def config(self) -> dict[str, object]:
        """Keyword arguments that rebuild this embedding (JSON-serializable)."""
        return {"species": list(self.species), "max_length": self.max_length,
                "n_neighbors": self.n_neighbors, "bond_factor": self.bond_factor,
                "neighbor_cutoff": self.neighbor_cutoff, "paths": self.paths}

    def columns_of(self, max_length: int, n_neighbors: int) -> np.ndarray:
        """Column indices, in this embedding's output, of the smaller L_{max_length}^(n_neighbors)
        with the same species and settings: compute the largest once, slice the rest."""
        if max_length > self.max_length or n_neighbors > self.n_neighbors or max_length < 2:
            raise ValueError("the smaller embedding must fit inside this one")
        s = len(self.species)
        walks = np.arange((max_length - 1) * s)
        start = (self.max_length - 1) * s
        geometry = start + np.arange(n_neighbors * (3 + s))
        return np.concatenate([walks, geometry])

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
        path_sums = closed_walk_sums if self.paths == "walks" else simple_cycle_sums
        walks = path_sums(crystal, self.max_length, species=self.species,
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
