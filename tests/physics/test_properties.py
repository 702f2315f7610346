import numpy as np
import pytest

from crystaldos.errors import CrystalDosError
from crystaldos.physics.cell import CellInfo, species_from_formula
from crystaldos.physics.constants import N_A
from crystaldos.physics.phonon import modes_from_dos, thermal_properties
from crystaldos.physics.properties import (
    columns_for,
    electronic_properties,
    phonon_columns,
    phonon_properties,
    properties_for,
    thermal_column,
)
from crystaldos.spectra.grid import EDOS_300, PHDOS_51, PHDOS_66

QUARTZ = CellInfo(("Si",) * 3 + ("O",) * 6, volume=113.0)


def dos(grid, centre=350.0, width=120.0):
    return np.exp(-0.5 * ((grid.points - centre) / width) ** 2)


def test_cell_info() -> None:
    assert QUARTZ.n_atoms == 9 and QUARTZ.formula_units == 3
    assert QUARTZ.atoms_per_formula_unit == 3 and QUARTZ.reduced_formula == "SiO2"
    assert QUARTZ.mass_amu == pytest.approx(3 * 60.08, rel=1e-3)
    assert species_from_formula("Ti2O4") == ["Ti", "Ti", "O", "O", "O", "O"]
    assert CellInfo.from_formula("Ti2O4").reduced_formula == "TiO2"
    with pytest.raises(CrystalDosError, match="cannot read formula"):
        species_from_formula("Ti(O)2")
    with pytest.raises(CrystalDosError, match="unknown element"):
        CellInfo(("Xx",))


def test_columns_are_stable_and_carry_units() -> None:
    cols = phonon_columns([100, 300])
    for name in ("cv_J_per_molK_300K", "s_J_per_molK_300K", "cv_J_per_molatomK_100K",
                 "cv_J_per_kgK_300K", "u_kJ_per_mol_300K", "f_kJ_per_molatom_100K",
                 "negative_mode_fraction", "stable", "debye_temperature_K",
                 "isotope_scattering_rate_per_s"):
        assert name in cols
    assert thermal_column("s", "kg", 77.5) == "s_J_per_kgK_77.5K"
    assert "band_gap_eV" in columns_for("electronic")
    with pytest.raises(CrystalDosError, match="unknown property kind"):
        columns_for("optical")


def test_phonon_row_bases_are_consistent() -> None:
    row = phonon_properties(PHDOS_51, dos(PHDOS_51), QUARTZ, [300])
    assert set(row) == set(phonon_columns([300]))
    per_cell = thermal_properties(modes_from_dos(PHDOS_51, dos(PHDOS_51), 9), 300.0)
    assert row["cv_J_per_molK_300K"] == pytest.approx(per_cell.heat_capacity[0] * N_A / 3)
    assert row["cv_J_per_molatomK_300K"] == pytest.approx(row["cv_J_per_molK_300K"] / 3)
    kg_per_mol_fu = QUARTZ.mass_kg * N_A / 3
    assert row["s_J_per_kgK_300K"] == pytest.approx(row["s_J_per_molK_300K"] / kg_per_mol_fu)
    assert row["f_kJ_per_mol_300K"] == pytest.approx(
        row["u_kJ_per_mol_300K"] - 300 * row["s_J_per_molK_300K"] / 1000)
    assert row["formula"] == "SiO2" and row["formula_units"] == 3
    assert np.isnan(row["negative_mode_fraction"]) and row["stable"] is None  # grid from 0
    assert row["isotope_gamma"] > 0 and row["isotope_scattering_rate_per_s"] > 0


def test_without_a_structure_only_intensive_columns_are_filled() -> None:
    with_cell = phonon_properties(PHDOS_66, dos(PHDOS_66), QUARTZ)
    bare = phonon_properties(PHDOS_66, dos(PHDOS_66), None)
    assert bare["cv_J_per_molatomK_300K"] == pytest.approx(with_cell["cv_J_per_molatomK_300K"])
    assert bare["debye_temperature_K"] == pytest.approx(with_cell["debye_temperature_K"])
    assert np.isnan(bare["cv_J_per_molK_300K"]) and np.isnan(bare["cv_J_per_kgK_300K"])
    assert np.isnan(bare["isotope_gamma"]) and bare["formula"] is None
    assert bare["stable"] is True


def test_electronic_row_and_absolute_scales() -> None:
    e = EDOS_300.points
    metal = np.full(300, 0.05)
    si = CellInfo(("Si", "Si"))
    row = electronic_properties(EDOS_300, metal, "valence", si)
    assert row["electronic_class"] == "metal" and row["band_gap_eV"] == 0
    assert row["dos_at_fermi"] == pytest.approx(0.05)
    assert row["dos_at_fermi_states_per_eV"] == pytest.approx(0.05 * 8)  # 8 valence electrons
    # per mole of formula units (Si: 2 per cell)
    assert row["sommerfeld_mJ_per_molK2"] == pytest.approx(0.4 / 2 * 2.3571, rel=1e-4)
    # a shape-only normalization has no absolute scale: NaN, not a made-up number
    row = electronic_properties(EDOS_300, metal, "max", si)
    assert np.isnan(row["dos_at_fermi_states_per_eV"]) and np.isnan(
        row["sommerfeld_mJ_per_molK2"])
    gapped = np.where((e < -0.2) | (e > 1.3), 1.0, 0.0)
    row = electronic_properties(EDOS_300, gapped, "max", None)
    assert row["electronic_class"] == "semiconductor"
    assert row["band_gap_eV"] == pytest.approx(1.5, abs=0.05)


def test_kind_must_match_the_grid() -> None:
    with pytest.raises(CrystalDosError, match="--kind electronic"):
        properties_for("electronic", PHDOS_51, dos(PHDOS_51), "max")
