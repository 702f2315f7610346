"""Line graph of bond pairs that share an atom, with bond-angle cosines (vectorized, no loops)."""

from __future__ import annotations

import numpy as np


def bond_pairs(centers: np.ndarray, n_atoms: int) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs (a, b), a != b, of directed bonds with the same center atom.

    ``centers`` is (E,) the center atom of each bond. Returns two (T,) int64 arrays of bond indices,
    T = sum_i deg_i (deg_i - 1). In the line graph bond a sends a message to bond b.
    """
    centers = np.asarray(centers, dtype=np.int64)
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


def bond_cosines(vectors: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """cos of the angle at the shared atom between bonds ``src`` and ``dst``; (T,) float32.

    ``vectors`` (E, 3) point from each bond's center to its neighbour (Å).
    """
    unit = (vectors / np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]).astype(np.float32)
    cos = np.einsum("ij,ij->i", unit[src], unit[dst])
    return np.clip(cos, -1.0, 1.0, out=cos)
