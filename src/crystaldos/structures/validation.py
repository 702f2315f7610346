"""Checks that turn a bad structure into one clear StructureError instead of a deep traceback."""

from __future__ import annotations

import numpy as np

from crystaldos.errors import StructureError

MIN_DISTANCE_A = 0.5
#: smallest allowed |det(L)| / (|a||b||c|): below this the cell vectors are (nearly) coplanar.
MIN_CELL_SINE = 1e-3
MIN_VECTOR_LENGTH_A = 1e-2


def check_lattice(lattice: np.ndarray, source: str) -> None:
    """Raise StructureError if the lattice is not a finite, non-degenerate 3x3 matrix."""
    lattice = np.asarray(lattice, dtype=np.float64)
    if lattice.shape != (3, 3):
        raise StructureError(source, f"lattice must be 3x3, got shape {lattice.shape}")
    if not np.all(np.isfinite(lattice)):
        raise StructureError(source, "lattice contains NaN or infinite values")
    lengths = np.linalg.norm(lattice, axis=1)
    if np.any(lengths < MIN_VECTOR_LENGTH_A):
        raise StructureError(source, f"singular lattice: a cell vector has length "
                                     f"{lengths.min():.3g} Å")
    volume = abs(np.linalg.det(lattice))
    sine = volume / float(np.prod(lengths))
    if sine < MIN_CELL_SINE:
        raise StructureError(source, f"degenerate lattice: cell vectors are (nearly) coplanar "
                                     f"(volume {volume:.3g} Å^3)")


def check_atoms(numbers: np.ndarray, positions: np.ndarray, source: str) -> None:
    """Raise StructureError for no atoms, unknown atomic numbers or non-finite coordinates."""
    from crystaldos.elements import max_atomic_number

    if numbers.shape[0] == 0:
        raise StructureError(source, "structure has no atoms")
    if positions.shape != (numbers.shape[0], 3):
        raise StructureError(source, f"expected {numbers.shape[0]}x3 coordinates, got shape "
                                     f"{positions.shape}")
    bad = (numbers < 1) | (numbers > max_atomic_number())
    if np.any(bad):
        raise StructureError(source, f"unknown element with atomic number {int(numbers[bad][0])}")
    if not np.all(np.isfinite(positions)):
        row = int(np.argwhere(~np.isfinite(positions))[0, 0])
        raise StructureError(source, f"atom {row} has NaN or infinite coordinates")


def check_min_distance(lattice: np.ndarray, positions: np.ndarray, source: str,
                       min_distance: float = MIN_DISTANCE_A) -> None:
    """Raise StructureError if two atoms (periodic images included) are closer than min_distance."""
    from vesin import NeighborList

    i, j, d = NeighborList(cutoff=min_distance, full_list=False).compute(
        points=positions, box=lattice, periodic=True, quantities="ijd")
    if len(d):
        k = int(np.argmin(d))
        a, b = int(i[k]), int(j[k])
        what = f"atoms {a} and {b} are" if a != b else f"atom {a} and its periodic image are"
        raise StructureError(source, f"{what} {d[k]:.3f} Å apart (closer than "
                                     f"{min_distance} Å)")
