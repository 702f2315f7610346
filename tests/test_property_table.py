"""`crystaldos properties` and `crystaldos predict --properties`, end to end on tiny inputs."""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crystaldos.cli import app
from crystaldos.physics.properties import phonon_columns
from crystaldos.prediction.readers import read_predictions
from crystaldos.spectra.grid import EDOS_300, PHDOS_51, PHDOS_66
from tests.conftest import rocksalt, silicon_primitive, write_spectra

runner = CliRunner()


def structure_files(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    rocksalt().to_ase().write(folder / "nacl.cif")
    silicon_primitive().to_ase().write(folder / "si.vasp", format="vasp")
    return [str(folder / "nacl.cif"), str(folder / "si.vasp")]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_writers_and_readers_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"p{suffix}"
    cols = {"cell_formula": "str", "volume_A3": "float", "stable": "bool", "n": "int"}
    y = np.linspace(0, 1, 66)
    write_spectra(path, PHDOS_66, "max", [
        ("a", y, {"cell_formula": "Na4Cl4", "volume_A3": 179.4, "stable": True, "n": 8}),
        ("b", y[::-1], {"cell_formula": "Si2", "volume_A3": float("nan"), "stable": None})],
        cols)
    rows = list(read_predictions(path))
    assert [r.id for r in rows] == ["a", "b"]
    assert rows[0].spectrum.grid == PHDOS_66 and rows[0].spectrum.normalization == "max"
    np.testing.assert_allclose(rows[1].dos, y[::-1], rtol=1e-5, atol=1e-7)  # 7 digits
    assert rows[0].values["cell_formula"] == "Na4Cl4"
    assert float(rows[0].values["volume_A3"]) == pytest.approx(179.4)


def test_predict_with_properties_then_properties_command(tiny_model_dir: Path,
                                                         tmp_path: Path) -> None:
    inputs = structure_files(tmp_path / "in")
    pred = tmp_path / "pred.jsonl"
    result = runner.invoke(app, ["predict", "-m", str(tiny_model_dir), *inputs, "-o", str(pred),
                                 "-q", "--properties", "--temperatures", "100,300"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in pred.read_text().splitlines()]
    assert lines[0]["cell_formula"] == "Na4Cl4" and lines[0]["formula"] == "NaCl"
    assert lines[0]["cv_J_per_molK_100K"] > 0 and lines[0]["cv_J_per_molK_300K"] <= 6 * 8.3145
    assert len(lines[0]["dos"]) == 51
    # the same numbers again from the predictions file, as a CSV table
    table = tmp_path / "props.csv"
    result = runner.invoke(app, ["properties", str(pred), "-o", str(table),
                                 "--temperatures", "100,300"])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(table)
    assert list(df.columns) == ["id", *phonon_columns([100, 300])]
    assert df.loc[0, "cv_J_per_molK_300K"] == pytest.approx(lines[0]["cv_J_per_molK_300K"],
                                                            rel=1e-5)
    assert df.loc[1, "formula"] == "Si" and df.loc[1, "formula_units"] == 2


def test_properties_of_a_data_set_with_structures_matched_by_id(toy_dataset_file: Path,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "p.parquet"
    result = runner.invoke(app, ["properties", str(toy_dataset_file), "--split", "val",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    df = pd.read_parquet(out)
    assert len(df) == 8 and df["cv_J_per_kgK_300K"].notna().all()
    # spectra without structure info: structures come from files named with --structures
    pred = tmp_path / "bare.csv"
    y = np.exp(-0.5 * ((PHDOS_51.points - 300) / 100) ** 2)
    write_spectra(pred, PHDOS_51, "max", [("si", y, {}), ("unknown", y, {})], {})
    inputs = structure_files(tmp_path / "in")
    table = tmp_path / "t.jsonl"
    result = runner.invoke(app, ["properties", str(pred), "-o", str(table),
                                 "--structures", inputs[1]])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in table.read_text().splitlines()]
    assert rows[0]["formula"] == "Si" and rows[0]["isotope_gamma"] > 0
    assert rows[1]["formula"] is None and rows[1]["cv_J_per_molK_300K"] is None
    assert rows[1]["cv_J_per_molatomK_300K"] == pytest.approx(rows[0]["cv_J_per_molatomK_300K"])
    assert "1 materials had no structure" in result.output


def test_bad_rows_are_recorded_and_the_rest_written(tmp_path: Path) -> None:
    pred = tmp_path / "p.jsonl"
    e = EDOS_300.points
    write_spectra(pred, EDOS_300, "valence", [
        ("gapped", np.where((e < 0) | (e > 1.2), 0.2, 0.0), {"cell_formula": "Si2"}),
        ("empty", np.zeros(300), {"cell_formula": "Si2"}),
        ("metal", np.full(300, 0.1), {"cell_formula": "Cu"})])
    table = tmp_path / "e.csv"
    result = runner.invoke(app, ["properties", str(pred), "--kind", "electronic",
                                 "-o", str(table)])
    assert result.exit_code == 1
    assert "p.jsonl:2 [empty]: DOS has no positive values" in result.output
    with table.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["gapped", "metal"]
    assert float(rows[0]["band_gap_eV"]) == pytest.approx(1.2, abs=0.05)
    assert rows[1]["electronic_class"] == "metal"
    assert float(rows[1]["dos_at_fermi_states_per_eV"]) == pytest.approx(0.1 * 11)


def test_clear_errors(tmp_path: Path) -> None:
    existing = tmp_path / "x.csv"
    existing.write_text("earlier table\n")
    result = runner.invoke(app, ["properties", str(tmp_path / "nope.jsonl"), "-o",
                                 str(existing)])
    assert result.exit_code != 0 and "no such file" in str(result.exception)
    assert existing.read_text() == "earlier table\n"  # a bad input leaves the output alone
    pred = tmp_path / "p.jsonl"
    write_spectra(pred, PHDOS_51, "max", [("a", np.ones(51), {"cell_formula": "Si2"})])
    result = runner.invoke(app, ["properties", str(pred), "--kind", "electronic", "-o",
                                 str(tmp_path / "x.csv")])
    assert str(result.exception) == f"--kind electronic, but {pred} holds phonon spectra"
    assert existing.read_text() == "earlier table\n"
    result = runner.invoke(app, ["properties", str(pred), "-o", str(tmp_path / "x.csv"),
                                 "--temperatures", "abc"])
    assert result.exit_code == 2 and "temperatures in K" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("id,dos_0\n")
    result = runner.invoke(app, ["properties", str(bad), "-o", str(tmp_path / "y.csv")])
    message = str(result.exception)
    assert "bad.csv: no normalization, grid_unit, grid_start, grid_step column" in message
