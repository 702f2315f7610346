"""One row of named, unit-carrying properties per material, from its DOS.

Column names are stable API (documented in the README). Units live in the name:
``cv_J_per_molK_300K`` is Cv at 300 K in J/(mol K) per mole of formula units; ``molatom`` means per
mole of atoms and ``kg`` per kilogram. Every row of a kind has the same columns; a value that
cannot be computed (no structure, or a grid that starts at 0 for stability) is NaN / None.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.physics.cell import CellInfo
from crystaldos.physics.electronic import (
    DEFAULT_EDGE_WINDOW,
    DEFAULT_GAP_TOLERANCE,
    DEFAULT_INSULATOR_GAP,
    band_gap,
    classify,
    dos_at_energy,
    sommerfeld_coefficient,
)
from crystaldos.physics.phonon import (
    DEFAULT_STABILITY_THRESHOLD,
    debye_temperature,
    is_dynamically_stable,
    isotope_mass_variance,
    mean_isotope_scattering_rate,
    modes_from_dos,
    negative_mode_fraction,
    thermal_properties,
)
from crystaldos.physics.units import PER_KG, PER_MOL, PER_MOL_ATOMS, per_basis
from crystaldos.spectra.grid import ELECTRONIC, PHONON, Grid

DEFAULT_TEMPERATURES = (300.0,)
_NAN = float("nan")

#: (prefix, unit stem, scale to the unit from J or J/K) of the thermal quantities.
_THERMAL = (("cv", "J_per_{b}K", 1.0), ("s", "J_per_{b}K", 1.0),
            ("u", "kJ_per_{b}", 1e-3), ("f", "kJ_per_{b}", 1e-3))
_BASES = (PER_MOL, PER_MOL_ATOMS, PER_KG)


def temperature_label(t: float) -> str:
    """'300K', '77.5K'."""
    return f"{float(t):g}K"


def thermal_column(quantity: str, basis: str, temperature: float) -> str:
    """Column name of a thermal quantity (cv, s, u, f) per basis (mol, molatom, kg) at T."""
    for prefix, unit, _ in _THERMAL:
        if prefix == quantity:
            return f"{prefix}_{unit.format(b=basis)}_{temperature_label(temperature)}"
    raise ValueError(f"unknown thermal quantity {quantity!r}")


def phonon_columns(temperatures: Sequence[float] = DEFAULT_TEMPERATURES) -> dict[str, str]:
    """Ordered {column: type} of :func:`phonon_properties` rows (type: float, int, str, bool)."""
    cols: dict[str, str] = {"formula": "str", "n_atoms": "int", "formula_units": "int",
                            "debye_temperature_K": "float",
                            "zero_point_energy_kJ_per_mol": "float",
                            "zero_point_energy_kJ_per_molatom": "float"}
    for t in temperatures:
        for prefix, _, _ in _THERMAL:
            for basis in _BASES:
                cols[thermal_column(prefix, basis, t)] = "float"
    cols.update({"isotope_gamma": "float", "isotope_scattering_rate_per_s": "float",
                 "negative_mode_fraction": "float", "stable": "bool"})
    return cols


def electronic_columns() -> dict[str, str]:
    """Ordered {column: type} of :func:`electronic_properties` rows."""
    return {"formula": "str", "n_atoms": "int", "band_gap_eV": "float", "vbm_eV": "float",
            "cbm_eV": "float", "gap_is_lower_bound": "bool", "electronic_class": "str",
            "dos_at_fermi": "float", "dos_at_fermi_states_per_eV": "float",
            "sommerfeld_mJ_per_molK2": "float"}


def columns_for(kind: str, temperatures: Sequence[float] = DEFAULT_TEMPERATURES) -> dict[str, str]:
    if kind == PHONON:
        return phonon_columns(temperatures)
    if kind == ELECTRONIC:
        return electronic_columns()
    raise CrystalDosError(f"unknown property kind {kind!r}; choose phonon or electronic")


def phonon_properties(grid: Grid, values: np.ndarray, cell: CellInfo | None = None,
                      temperatures: Sequence[float] = DEFAULT_TEMPERATURES, *,
                      stability_threshold: float = DEFAULT_STABILITY_THRESHOLD,
                      debye_moment: float = 2.0) -> dict[str, Any]:
    """Thermal, Debye, isotope and stability properties of one phonon DOS (any normalization:
    the spectrum is rescaled to 3N modes). Without ``cell`` only the per-atom columns, the Debye
    temperature and the stability are known; the rest are NaN."""
    temperatures = [float(t) for t in temperatures]
    # per-atom quantities only need the shape: a cell of one atom has 3 modes
    n_atoms = cell.n_atoms if cell is not None else 1
    modes = modes_from_dos(grid, values, n_atoms)
    row: dict[str, Any] = dict.fromkeys(phonon_columns(temperatures), _NAN)
    row["formula"] = cell.reduced_formula if cell is not None else None
    row["n_atoms"] = cell.n_atoms if cell is not None else None
    row["formula_units"] = cell.formula_units if cell is not None else None
    # every mode imaginary: no Debye temperature, reported as NaN
    with contextlib.suppress(CrystalDosError):
        row["debye_temperature_K"] = debye_temperature(modes, debye_moment)
    thermo = thermal_properties(modes, temperatures)
    per_cell = {"cv": thermo.heat_capacity, "s": thermo.entropy, "u": thermo.internal_energy,
                "f": thermo.free_energy}
    # without a cell the modes are those of a one-atom cell: per cell is per atom
    reference = cell if cell is not None else CellInfo(("H",))
    for basis in _BASES if cell is not None else (PER_MOL_ATOMS,):
        if basis != PER_KG:
            row[f"zero_point_energy_kJ_per_{basis}"] = float(
                per_basis(thermo.zero_point_energy, reference, basis)) * 1e-3
        for prefix, _, scale in _THERMAL:
            converted = per_basis(per_cell[prefix], reference, basis) * scale
            for t, value in zip(temperatures, converted, strict=True):
                row[thermal_column(prefix, basis, t)] = float(value)
    if cell is not None:
        gamma = isotope_mass_variance(cell.species)
        row["isotope_gamma"] = gamma
        with contextlib.suppress(CrystalDosError):
            row["isotope_scattering_rate_per_s"] = mean_isotope_scattering_rate(modes, gamma)
    row["negative_mode_fraction"] = negative_mode_fraction(modes)
    row["stable"] = is_dynamically_stable(modes, stability_threshold)
    return row


def absolute_dos_scale(normalization: str, cell: CellInfo | None) -> float | None:
    """Factor from a spectrum in ``normalization`` to states/eV per cell, or None if unknown:
    'none' is taken as states/eV per cell, 'valence' multiplies by the valence electrons."""
    if normalization == "none":
        return 1.0
    if normalization == "valence" and cell is not None:
        from crystaldos.elements import atomic_number, valence_electrons

        return float(valence_electrons(np.array([atomic_number(s) for s in cell.species])))
    return None


def electronic_properties(grid: Grid, values: np.ndarray, normalization: str,
                          cell: CellInfo | None = None, *, fermi_level: float = 0.0,
                          rel_tol: float = DEFAULT_GAP_TOLERANCE,
                          edge_window: float = DEFAULT_EDGE_WINDOW,
                          insulator_gap: float = DEFAULT_INSULATOR_GAP) -> dict[str, Any]:
    """Band gap, class, DOS at E_F (in the spectrum's own units and, when its scale is known, in
    states/eV per cell) and the Sommerfeld coefficient of one electronic DOS."""
    row: dict[str, Any] = dict.fromkeys(electronic_columns(), _NAN)
    row["formula"] = cell.reduced_formula if cell is not None else None
    row["n_atoms"] = cell.n_atoms if cell is not None else None
    gap = band_gap(grid, values, fermi_level, rel_tol=rel_tol, edge_window=edge_window)
    row.update(band_gap_eV=gap.gap, vbm_eV=gap.vbm, cbm_eV=gap.cbm,
               gap_is_lower_bound=gap.open_ended, electronic_class=classify(gap.gap,
                                                                            insulator_gap))
    g_ef = 0.0 if not gap.is_metal else dos_at_energy(grid, values, fermi_level)
    row["dos_at_fermi"] = g_ef
    scale = absolute_dos_scale(normalization, cell)
    if scale is not None:
        row["dos_at_fermi_states_per_eV"] = g_ef * scale
        if cell is not None:
            row["sommerfeld_mJ_per_molK2"] = sommerfeld_coefficient(g_ef * scale,
                                                                    cell.formula_units)
    return row


def properties_for(kind: str, grid: Grid, values: np.ndarray, normalization: str,
                   cell: CellInfo | None = None,
                   temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
                   **options: Any) -> dict[str, Any]:
    """Dispatch to :func:`phonon_properties` or :func:`electronic_properties` by ``kind``."""
    if grid.kind != kind:
        raise CrystalDosError(f"--kind {kind} but the spectra are on a {grid.kind} grid")
    if kind == PHONON:
        return phonon_properties(grid, values, cell, temperatures, **options)
    return electronic_properties(grid, values, normalization, cell, **options)
