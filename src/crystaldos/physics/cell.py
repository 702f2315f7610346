"""What the physics layer needs to know about a cell: atoms, formula units, mass, volume."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import reduce
from math import gcd

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.spectra.grid import Grid


@dataclass(frozen=True)
class CellInfo:
    """Composition of one simulation cell.

    Attributes:
        species: element symbol of every atom in the cell.
        volume: cell volume in Å^3 (None when unknown; only the isotope rate and
            elastic Debye temperature need it).
    """

    species: tuple[str, ...]
    volume: float | None = None

    def __post_init__(self) -> None:
        from crystaldos.elements import is_known_symbol

        object.__setattr__(self, "species", tuple(str(s) for s in self.species))
        if not self.species:
            raise CrystalDosError("a cell needs at least one atom")
        unknown = sorted({s for s in self.species if not is_known_symbol(s)})
        if unknown:
            raise CrystalDosError(f"unknown element symbol(s) {unknown}")
        if self.volume is not None and not (np.isfinite(self.volume) and self.volume > 0):
            raise CrystalDosError(f"cell volume must be positive, got {self.volume}")

    @classmethod
    def from_crystal(cls, crystal) -> CellInfo:
        return cls(tuple(crystal.species), crystal.volume)

    @classmethod
    def from_formula(cls, formula: str, volume: float | None = None) -> CellInfo:
        """From a cell formula such as ``Ti2O4`` (the cell's atoms, not the reduced formula)."""
        return cls(tuple(species_from_formula(formula)), volume)

    @property
    def n_atoms(self) -> int:
        """Atoms per cell, N."""
        return len(self.species)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(self.species))

    @property
    def formula_units(self) -> int:
        """Formula units per cell, Z: the gcd of the element counts (Ti4O8 -> 4 of TiO2)."""
        return reduce(gcd, self.counts.values())

    @property
    def atoms_per_formula_unit(self) -> int:
        return self.n_atoms // self.formula_units

    @property
    def reduced_formula(self) -> str:
        z = self.formula_units
        return "".join(f"{el}{n // z if n // z > 1 else ''}" for el, n in self.counts.items())

    @property
    def mass_amu(self) -> float:
        """Mass of the cell in amu (standard atomic masses)."""
        from crystaldos.elements import atomic_number, masses

        return float(masses(np.array([atomic_number(s) for s in self.species])).sum())

    @property
    def mass_kg(self) -> float:
        from crystaldos.physics.constants import AMU

        return self.mass_amu * AMU


#: Most atoms a cell formula may name (a guard against a typo that would fill the memory).
MAX_FORMULA_ATOMS = 1_000_000


def species_from_formula(formula: str) -> list[str]:
    """Atoms of a cell formula such as ``Ti2O4`` (integer counts, no brackets)."""
    import re

    text = formula.strip()
    parts = re.findall(r"([A-Z][a-z]?)(\d*)", text)
    if not parts or "".join(el + n for el, n in parts) != text:
        raise CrystalDosError(f"cannot read formula {formula!r} (expected e.g. 'Ti2O4')")
    total = sum(int(count) if count else 1 for _, count in parts)
    if total > MAX_FORMULA_ATOMS:
        raise CrystalDosError(f"formula {formula!r} has {total} atoms, more than the "
                              f"{MAX_FORMULA_ATOMS} a cell may hold here")
    species: list[str] = []
    for element, count in parts:
        species.extend([element] * (int(count) if count else 1))
    return species


def checked_spectrum(grid: Grid, values: np.ndarray, kind: str) -> np.ndarray:
    """``values`` as float64 after checking it is a finite spectrum on a ``kind`` grid."""
    if grid.kind != kind:
        raise CrystalDosError(f"expected a {kind} grid, got a {grid.kind} grid")
    y = np.asarray(values, dtype=np.float64)
    if y.shape != (grid.count,):
        raise CrystalDosError(f"DOS has shape {y.shape}, the grid has {grid.count} points")
    if not np.all(np.isfinite(y)):
        raise CrystalDosError("DOS contains NaN or infinite values")
    return y
