"""Reference electronic DOS of a crystal from GFN2-xTB on a Gamma-point supercell.

The crystal is repeated until every cell height is at least ``min_length`` Å (capped at
``max_atoms``), so that Gamma-point sampling of the supercell stands in for a k-mesh of the cell.
Energy zero (the JARVIS/VASP convention of the ALIGNN eDOS data): the highest occupied level when
the Gamma gap is at least ``gap_threshold`` eV, else the Fermi level (mid HOMO-LUMO). Levels are
Gaussian-smeared and divided by the number of cells, so the stored DOS is in states/eV per cell;
:func:`per_electron` divides by the cell's valence-electron count *in GFN2-xTB's own basis*, so
the occupied part integrates to one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from crystaldos.reference.xtb import (
    ReferenceCalculationError,
    XtbResult,
    gaussian_dos,
    xtb_singlepoint,
)
from crystaldos.spectra.grid import EDOS_300, Grid
from crystaldos.structures.crystal import Crystal

#: SCF settings tried in turn: (electronic temperature K, mixer damping, max iterations). Fermi
#: smearing of a few thousand K converges metals and small-gap cells far more often than 300 K
#: and shifts levels by less than the 0.15 eV Gaussian smearing of the DOS; one setting only by
#: default, because a second one costs several times a converged cell per rescue (the failure
#: counts of a run are in the summary that ``scripts/make_xtb_edos.py --assemble`` writes).
EDOS_SCF_ATTEMPTS: tuple[tuple[float, float, int], ...] = ((3000.0, 0.2, 50),)


def supercell_repeats(lattice: np.ndarray, min_length: float = 7.0, max_atoms: int = 32,
                      n_atoms: int = 1) -> tuple[int, int, int]:
    """Repeats (n1, n2, n3) that make every cell height (distance between opposite faces) at
    least ``min_length`` Å; while the supercell has more than ``max_atoms`` atoms, the repeat
    that overshoots ``min_length`` most is reduced (never below 1)."""
    lattice = np.asarray(lattice, dtype=np.float64)
    volume = abs(np.linalg.det(lattice))
    heights = np.array([volume / np.linalg.norm(np.cross(lattice[(k + 1) % 3],
                                                         lattice[(k + 2) % 3]))
                        for k in range(3)])
    reps = np.maximum(1, np.ceil(min_length / heights - 1e-9)).astype(int)
    while n_atoms * reps.prod() > max_atoms and reps.max() > 1:
        shrinkable = np.where(reps > 1, reps * heights - heights, -np.inf)
        reps[np.argmax(shrinkable)] -= 1
    return int(reps[0]), int(reps[1]), int(reps[2])


@dataclass(frozen=True)
class ReferenceEDOS:
    """One reference eDOS.

    levels: (M,) orbital energies of the supercell relative to the energy zero, eV (kept so the
    DOS can be re-smeared without recomputing); dos: (G,) states/eV per cell on ``grid``;
    gap: HOMO-LUMO gap of the supercell at Gamma, eV; n_valence: GFN2-xTB valence electrons per
    cell; repeats: the supercell; attempt: index into the SCF settings that converged;
    seconds: wall time of the calculation.
    """

    levels: np.ndarray
    dos: np.ndarray
    grid: Grid
    sigma: float
    gap: float
    n_valence: float
    repeats: tuple[int, int, int]
    attempt: int
    seconds: float

    @property
    def n_cells(self) -> int:
        return int(np.prod(self.repeats))

    def per_electron(self) -> np.ndarray:
        """(G,) DOS in states/eV per valence electron."""
        return self.dos / self.n_valence


def energy_zero(result: XtbResult, gap_threshold: float = 0.1) -> float:
    """The valence-band maximum (HOMO) if the Gamma gap is at least ``gap_threshold`` eV, else
    the Fermi level (mid HOMO-LUMO), eV."""
    return result.homo if result.gap >= gap_threshold else result.midgap


def smeared_dos(levels: np.ndarray, grid: Grid, sigma: float, n_cells: int = 1) -> np.ndarray:
    """(G,) Gaussian-smeared DOS of ``levels`` (eV, relative to the energy zero) in states/eV per
    cell, spin included."""
    levels = np.asarray(levels, dtype=np.float64)
    return gaussian_dos(levels, np.ones_like(levels), grid.points, sigma) / n_cells


def xtb_edos(crystal: Crystal, *, grid: Grid = EDOS_300, sigma: float = 0.15,
             min_length: float = 7.0, max_atoms: int = 32, gap_threshold: float = 0.1,
             method: str = "GFN2-xTB", accuracy: float = 3.0,
             attempts: tuple[tuple[float, float, int], ...] = EDOS_SCF_ATTEMPTS) -> ReferenceEDOS:
    """GFN2-xTB eDOS of ``crystal`` (see the module docstring); the SCF settings of ``attempts``
    are tried in turn. Raises :class:`ReferenceCalculationError` naming the crystal when none
    converges."""
    if not attempts:
        raise ValueError("attempts must hold at least one SCF setting")
    repeats = supercell_repeats(crystal.lattice, min_length, max_atoms, crystal.n_atoms)
    atoms = crystal.to_ase().repeat(repeats)
    where = crystal.source or crystal.formula
    start = time.perf_counter()
    for k, (temperature, damping, iterations) in enumerate(attempts):
        try:
            result = xtb_singlepoint(atoms, method=method, source=where, accuracy=accuracy,
                                     electronic_temperature=temperature,
                                     mixer_damping=damping, max_iterations=iterations)
            break
        except ReferenceCalculationError:
            if k == len(attempts) - 1:
                raise
    seconds = time.perf_counter() - start
    n_cells = int(np.prod(repeats))
    levels = result.orbital_energies - energy_zero(result, gap_threshold)
    n_valence = float(result.occupations.sum()) / n_cells
    if n_valence <= 0:
        raise ReferenceCalculationError(where, "no valence electrons in the GFN2-xTB basis")
    return ReferenceEDOS(levels=levels, dos=smeared_dos(levels, grid, sigma, n_cells), grid=grid,
                         sigma=sigma, gap=result.gap, n_valence=n_valence, repeats=repeats,
                         attempt=k, seconds=seconds)
