"""The one internal crystal record that every reader produces and every featurizer consumes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - imports for type hints only
    import ase
    import pymatgen.core


@dataclass(frozen=True, eq=False)
class Crystal:
    """A periodic crystal.

    Attributes:
        lattice: (3, 3) float64, cell vectors as rows, in Å.
        numbers: (N,) int64 atomic numbers.
        positions: (N, 3) float64 Cartesian coordinates in Å.
        id: identifier used in outputs (file stem, frame id, JARVIS jid, MP id...).
        source: where the structure came from, for error messages (path, path#frame, dataset).

    Build one with :func:`crystaldos.structures.from_arrays` (validated) or the readers in
    :mod:`crystaldos.structures.readers`; the constructor itself only normalises dtypes.
    """

    lattice: np.ndarray
    numbers: np.ndarray
    positions: np.ndarray
    id: str = "structure"
    source: str = "<memory>"
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lattice", np.asarray(self.lattice, dtype=np.float64))
        object.__setattr__(self, "numbers", np.asarray(self.numbers, dtype=np.int64).reshape(-1))
        positions = np.asarray(self.positions, dtype=np.float64)
        object.__setattr__(self, "positions", positions.reshape(-1, 3) if positions.size else
                           np.zeros((0, 3)))

    # -- derived quantities -------------------------------------------------------------------
    @property
    def n_atoms(self) -> int:
        return int(self.numbers.shape[0])

    def __len__(self) -> int:
        return self.n_atoms

    @property
    def species(self) -> list[str]:
        from crystaldos.elements import symbol_of

        return [symbol_of(int(z)) for z in self.numbers]

    @property
    def frac_coords(self) -> np.ndarray:
        """(N, 3) fractional coordinates (not wrapped into [0, 1))."""
        return np.linalg.solve(self.lattice.T, self.positions.T).T

    @property
    def volume(self) -> float:
        """Cell volume in Å^3."""
        return float(abs(np.linalg.det(self.lattice)))

    @property
    def formula(self) -> str:
        """Formula of the cell in Hill-like order of first appearance, e.g. ``Ti2O4``."""
        counts = Counter(self.species)
        return "".join(f"{el}{n if n > 1 else ''}" for el, n in counts.items())

    # -- conversions --------------------------------------------------------------------------
    def to_ase(self) -> ase.Atoms:
        import ase

        return ase.Atoms(numbers=self.numbers, positions=self.positions, cell=self.lattice,
                         pbc=True, info={"id": self.id})

    def to_pymatgen(self) -> pymatgen.core.Structure:
        from pymatgen.core import Lattice, Structure

        return Structure(Lattice(self.lattice), self.species, self.positions,
                         coords_are_cartesian=True, properties={"id": self.id})

    def to_record(self) -> dict[str, Any]:
        """JSON-ready dict in the layout of the shared data sets (lattice, species, frac_coords)."""
        return {"id": self.id, "lattice": self.lattice.tolist(), "species": self.species,
                "frac_coords": self.frac_coords.tolist()}

    def fingerprint(self) -> str:
        """A hash of the geometry (lattice, numbers, positions to 1e-6 Å), for caches."""
        import hashlib

        h = hashlib.sha256()
        h.update(np.round(self.lattice, 6).astype(np.float64).tobytes())
        h.update(self.numbers.astype(np.int64).tobytes())
        h.update(np.round(self.positions, 6).astype(np.float64).tobytes())
        return h.hexdigest()[:32]

    def __repr__(self) -> str:
        return f"Crystal(id={self.id!r}, formula={self.formula!r}, n_atoms={self.n_atoms})"
