"""Per-cell thermal quantities expressed per mole of formula units, per mole of atoms, per kg."""

from __future__ import annotations

import numpy as np

from crystaldos.physics.cell import CellInfo
from crystaldos.physics.constants import N_A

#: basis names as they appear in column names.
PER_MOL = "mol"  # per mole of formula units
PER_MOL_ATOMS = "molatom"  # per mole of atoms
PER_KG = "kg"
BASES = (PER_MOL, PER_MOL_ATOMS, PER_KG)


def per_basis(value_per_cell: np.ndarray | float, cell: CellInfo, basis: str) -> np.ndarray:
    """Convert a per-cell quantity (J or J/K) to J/mol, J/mol-atoms or J/kg (times /K)."""
    value = np.asarray(value_per_cell, dtype=np.float64)
    if basis == PER_MOL:
        return value * N_A / cell.formula_units
    if basis == PER_MOL_ATOMS:
        return value * N_A / cell.n_atoms
    if basis == PER_KG:
        return value / cell.mass_kg
    raise ValueError(f"unknown basis {basis!r}; choose from {BASES}")
