"""Line graph of bond pairs that share an atom, with bond-angle cosines (vectorized, no loops)."""

from __future__ import annotations

import numpy as np


def bond_pairs(centers: np.ndarray, n_atoms: int,
               subset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs (a, b), a != b, of directed bonds with the same center atom.

    ``centers`` is (E,) the center atom of each bond. Returns two (T,) int64 arrays of bond indices,
    T = sum_i deg_i (deg_i - 1). In the line graph bond a sends a message to bond b. With
    ``subset`` (an (E,) bool mask) only bonds in the subset are paired; indices stay those of the
    full bond list.
    """
    centers = np.asarray(centers, dtype=np.int64)
    if subset is not None:
        chosen = np.flatnonzero(subset)
        src, dst = bond_pairs(centers[chosen], n_atoms)
        return chosen[src], chosen[dst]
    order = np.argsort(centers, kind="stable")
    deg = np.bincount(centers, minlength=n_atoms)
    ptr = np.concatenate([[0], np.cumsum(deg)])
    sorted_centers = centers[order]
    partners = deg[sorted_centers]  # each bond pairs with every bond of its center (self included)
    total = int(partners.sum())
    slot = np.repeat(np.arange(order.size), partners)  # position of bond b in sorted order
    first = np.repeat(np.cumsum(partners) - partners, partners)
    partner_pos = np.repeat(ptr[sorted_centers], partners) + (np.arange(total) - first)
    keep = partner_pos != slot
    return order[partner_pos[keep]], order[slot[keep]]


def nearest_shell_bonds(centers: np.ndarray, distances: np.ndarray, k: int,
                        tolerance: float = 1e-3) -> np.ndarray:
    """(E,) bool mask: bonds to each center's ``k`` nearest neighbours, with whole shells kept.

    A bond is kept if its length is at most the center's k-th shortest bond length + ``tolerance``
    (Å), so symmetry-equivalent neighbours are never split. Used to limit three-body (angle)
    terms to the first shells, which is where most of the line graph's cost is saved.
    """
    centers = np.asarray(centers, dtype=np.int64)
    distances = np.asarray(distances, dtype=np.float64)
    if centers.size == 0:
        return np.zeros(0, dtype=bool)
    n = int(centers.max()) + 1
    order = np.lexsort((distances, centers))
    deg = np.bincount(centers, minlength=n)
    ptr = np.concatenate([[0], np.cumsum(deg)])
    kth = ptr[:-1] + np.minimum(deg, k) - 1  # position of each center's k-th shortest bond
    limit = np.full(n, -np.inf)
    has = deg > 0
    limit[has] = distances[order[kth[has]]]
    return distances <= limit[centers] + tolerance


def bond_cosines(vectors: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """cos of the angle at the shared atom between bonds ``src`` and ``dst``; (T,) float32.

    ``vectors`` (E, 3) point from each bond's center to its neighbour (Å).
    """
    unit = (vectors / np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]).astype(np.float32)
    cos = np.einsum("ij,ij->i", unit[src], unit[dst])
    return np.clip(cos, -1.0, 1.0, out=cos)
