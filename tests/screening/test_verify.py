import numpy as np
import pyarrow.parquet as pq
import pytest
from ase.calculators.emt import EMT
from typer.testing import CliRunner

from crystaldos.cli import app
from crystaldos.screening.store import read_table
from crystaldos.screening.verify import chgnet_phonon_dos, verify_run, verify_shortlist
from crystaldos.spectra.grid import PHDOS_51, Grid
from crystaldos.structures.readers import from_arrays

runner = CliRunner()


def copper(a: float = 3.61):
    return from_arrays(0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]), ["Cu"],
                       frac_coords=[[0, 0, 0]], id="Cu")


def test_phonopy_reference_holds_three_modes_per_atom() -> None:
    grid = Grid(-100.0, 10.0, 131, "cm^-1", "phonon")
    dos = chgnet_phonon_dos(copper(), grid, calculator=EMT(), mesh=8)
    assert np.sum(dos) * grid.step == pytest.approx(3.0, rel=1e-3)
    freqs = grid.points[dos > 0.01 * dos.max()]
    assert freqs.max() < 350 and freqs.min() > -30  # Cu: stable, cut-off near 240 cm^-1


def test_verify_shortlist_normalizes_and_names_failures() -> None:
    rows = [{"key": "cu.cif", "id": "cu", "dos": np.ones(51).tolist()},
            {"key": "gone.cif", "id": "gone", "dos": np.ones(51).tolist()}]
    failed = []
    out = verify_shortlist(rows, {"cu.cif": copper()}, PHDOS_51, "max", calculator=EMT(),
                           on_failure=lambda key, why: failed.append((key, why)))
    assert len(out) == 1 and max(out[0]["reference"]) == pytest.approx(1.0)
    assert out[0]["mae"] > 0 and out[0]["reference_method"] == "phonopy + CHGNet"
    assert failed == [("gone.cif", "CrystalDosError: no stored structure (the run was made by "
                       "an older crystaldos; screen it again into a new directory)")]


def test_verify_run_reads_structures_from_the_run_not_the_inputs(tiny_model_dir,
                                                                  tmp_path) -> None:
    path = tmp_path / "cu.cif"
    copper().to_ase().write(path)
    out = tmp_path / "run"
    assert runner.invoke(app, ["screen", str(path), "-m", str(tiny_model_dir), "-o", str(out),
                               "-q"]).exit_code == 0
    path.unlink()  # the source is gone: verify must not need it
    done = verify_run(out, "debye_temperature_K", top=1, calculator=EMT())
    assert [r["id"] for r in done.rows] == ["cu"] and done.figure.exists()
    assert pq.read_table(done.table).num_rows == 1
    assert "lattice" not in read_table(out).column_names  # structures stay out of plain reads


@pytest.mark.slow
def test_cli_verify_with_chgnet(tiny_model_dir, tmp_path) -> None:
    pytest.importorskip("chgnet")
    path = tmp_path / "cu.cif"
    copper().to_ase().write(path)
    out = tmp_path / "run"
    assert runner.invoke(app, ["screen", str(path), "-m", str(tiny_model_dir), "-o", str(out),
                               "-q"]).exit_code == 0
    result = runner.invoke(app, ["verify", str(out), "--by", "debye_temperature_K", "--top",
                                 "1"])
    assert result.exit_code == 0, result.output
    assert "softer than DFT" in result.output and (out / "verify.png").exists()
