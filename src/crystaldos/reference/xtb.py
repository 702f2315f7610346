"""GFN-xTB single points through ``tblite``: energy, forces, and atom-projected orbital weights.

Periodic tblite calculations sample the Gamma point only, so a smooth DOS needs a supercell.
Units: eV, eV/Å, positions in Å. The atom-projected DOS uses Mulliken weights
w_Ak = sum_{mu on A} C_mu,k (S C)_mu,k, which sum to 1 over atoms for every orbital k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from crystaldos.errors import SourcedError

HARTREE_EV = 27.211386245981  # CODATA 2022
BOHR_A = 0.529177210544
KELVIN_PER_HARTREE = 315775.02480398


class ReferenceCalculationError(SourcedError):
    """The reference engine failed on one structure (SCF not converged, bad geometry...)."""


def _tblite() -> Any:
    try:
        from tblite.interface import Calculator
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("reference calculations need tblite: "
                          "pip install 'crystaldos[reference]'") from None
    return Calculator


@dataclass(frozen=True)
class XtbResult:
    """One converged single point.

    Attributes:
        energy: total energy, eV.
        forces: (N, 3) eV/Å.
        orbital_energies: (M,) eV, ascending.
        occupations: (M,) electrons per orbital (0..2, spin-degenerate).
        atom_weights: (N, M) Mulliken weight of orbital k on atom A; columns sum to 1.
        charges: (N,) Mulliken partial charges, e.
    """

    energy: float
    forces: np.ndarray
    orbital_energies: np.ndarray
    occupations: np.ndarray
    atom_weights: np.ndarray
    charges: np.ndarray

    def _frontier(self) -> tuple[int, int]:
        """Indices of the HOMO and LUMO by filling the levels from the bottom with the cell's
        electrons, two per level (so a partly filled level is both, whatever the occupations
        that smearing gave its degenerate partners)."""
        n_electrons = round(float(self.occupations.sum()))
        full, odd = divmod(n_electrons, 2)
        if odd:
            return full, full  # a half-filled level: metallic
        return max(full - 1, 0), min(full, self.orbital_energies.size - 1)

    @property
    def homo(self) -> float:
        """Highest level that holds electrons after filling from the bottom, eV."""
        return float(self.orbital_energies[self._frontier()[0]])

    @property
    def lumo(self) -> float:
        """Lowest level left (partly) empty after filling from the bottom, eV."""
        return float(self.orbital_energies[self._frontier()[1]])

    @property
    def gap(self) -> float:
        """HOMO-LUMO gap at Gamma of this cell, eV (an upper bound of the crystal's gap)."""
        return max(self.lumo - self.homo, 0.0)

    @property
    def midgap(self) -> float:
        """(HOMO + LUMO) / 2, eV: the energy zero of every DOS here (the Fermi level of a
        metal, the middle of the gap of an insulator)."""
        return 0.5 * (self.homo + self.lumo)


def xtb_singlepoint(atoms: Any, *, method: str = "GFN2-xTB",
                    electronic_temperature: float = 300.0, max_iterations: int = 250,
                    accuracy: float = 1.0, mixer_damping: float = 0.4,
                    source: str | None = None) -> XtbResult:
    """Run one periodic GFN-xTB single point on an ``ase.Atoms`` (or a Crystal).

    ``electronic_temperature`` in K sets the Fermi smearing of the occupations;
    ``mixer_damping`` the Broyden mixer's damping (smaller is slower but steadier). Raises
    :class:`ReferenceCalculationError` naming ``source`` (default: the formula) on failure.
    """
    if hasattr(atoms, "to_ase"):
        atoms = atoms.to_ase()
    where = source or atoms.get_chemical_formula()
    calculator_class = _tblite()
    from tblite.exceptions import TBLiteRuntimeError, TBLiteValueError

    try:
        calc = calculator_class(method, np.asarray(atoms.numbers),
                                np.asarray(atoms.positions) / BOHR_A,
                                lattice=np.asarray(atoms.cell.array) / BOHR_A,
                                periodic=np.asarray(atoms.pbc, dtype=bool))
        calc.set("verbosity", 0)
        calc.set("save-integrals", 1)
        calc.set("max-iter", max_iterations)
        calc.set("accuracy", accuracy)
        calc.set("mixer-damping", mixer_damping)
        calc.set("temperature", electronic_temperature / KELVIN_PER_HARTREE)
        res = calc.singlepoint()
        # orbital -> shell -> atom
        orbital_atom = np.asarray(calc.get("shell-map"), dtype=np.int64)[
            np.asarray(calc.get("orbital-map"), dtype=np.int64)]
        coefficients = np.asarray(res.get("orbital-coefficients"))
        overlap = np.asarray(res.get("overlap-matrix"))
        energies = np.asarray(res.get("orbital-energies")) * HARTREE_EV
        occupations = np.asarray(res.get("orbital-occupations"))
        gradient = np.asarray(res.get("gradient"))
        energy = float(res.get("energy")) * HARTREE_EV
        charges = np.asarray(res.get("charges"))
    except (TBLiteRuntimeError, TBLiteValueError) as err:
        raise ReferenceCalculationError(where, f"{method} failed: {err}") from None
    # tblite returns C with orbitals in columns (C[mu, k]); Mulliken: w_mu,k = C_mu,k (S C)_mu,k
    per_orbital = coefficients * (overlap @ coefficients)
    weights = np.zeros((len(atoms), energies.size))
    np.add.at(weights, orbital_atom, per_orbital)
    return XtbResult(energy=energy, forces=-gradient * HARTREE_EV / BOHR_A,
                     orbital_energies=energies, occupations=occupations, atom_weights=weights,
                     charges=charges)


#: SCF settings tried in turn by :func:`robust_singlepoint`: (electronic temperature K, damping).
SCF_ATTEMPTS: tuple[tuple[float, float], ...] = ((300.0, 0.4), (300.0, 0.15), (1000.0, 0.15),
                                                 (3000.0, 0.1))


def robust_singlepoint(atoms: Any, *, method: str = "GFN2-xTB",
                       attempts: tuple[tuple[float, float], ...] = SCF_ATTEMPTS,
                       source: str | None = None) -> tuple[XtbResult, int]:
    """:func:`xtb_singlepoint` with the SCF settings of ``attempts`` tried in turn until one
    converges (small-gap and metallic cells often need more damping or Fermi smearing).
    Returns (result, index of the attempt that worked); raises the last failure."""
    for k, (temperature, damping) in enumerate(attempts):
        try:
            return xtb_singlepoint(atoms, method=method, electronic_temperature=temperature,
                                   mixer_damping=damping, source=source), k
        except ReferenceCalculationError:
            if k == len(attempts) - 1:
                raise
    raise ReferenceCalculationError(source or atoms.get_chemical_formula(),
                                    "no SCF settings to try")


def gaussian_dos(levels: np.ndarray, weights: np.ndarray, grid: np.ndarray,
                 sigma: float) -> np.ndarray:
    """Gaussian-smeared DOS sum_k weights[..., k] * 2 g(E - levels[k]; sigma), states/eV.

    levels: (M,) eV; weights: (..., M); grid: (G,) eV. The factor 2 counts both spins, so the
    integral up to the Fermi level is an electron count. Returns (..., G).
    """
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    z = (np.asarray(grid)[None, :] - np.asarray(levels)[:, None]) / sigma
    kernel = 2.0 * np.exp(-0.5 * z * z) / (sigma * np.sqrt(2.0 * np.pi))  # (M, G)
    return np.asarray(weights) @ kernel


def local_dos(result: XtbResult, grid: np.ndarray, sigma: float = 0.25) -> np.ndarray:
    """(N, G) atom-projected DOS in states/eV per atom on ``grid`` (eV relative to
    :attr:`XtbResult.midgap`)."""
    return gaussian_dos(result.orbital_energies - result.midgap, result.atom_weights, grid, sigma)


def total_dos(result: XtbResult, grid: np.ndarray, sigma: float = 0.25) -> np.ndarray:
    """(G,) total DOS of the cell in states/eV on ``grid`` (eV relative to the midgap)."""
    levels = result.orbital_energies - result.midgap
    return gaussian_dos(levels, np.ones_like(levels), grid, sigma)
