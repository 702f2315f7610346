"""End-to-end runs of the ``crystaldos`` command (in-process and as a real subprocess)."""

import json
import subprocess
import sys

import ase.io
import pytest
from typer.testing import CliRunner

from crystaldos.cli import app
from tests.conftest import rocksalt, silicon_primitive, triclinic

RUNNER = CliRunner()


def make_inputs(folder):
    ase.io.write(folder / "nacl.cif", rocksalt().to_ase())
    ase.io.write(folder / "POSCAR-si", silicon_primitive().to_ase(), format="vasp")
    frames = [triclinic().to_ase(), rocksalt(5.7).to_ase()]
    frames[1].info["id"] = "nacl-strained"
    ase.io.write(folder / "frames.extxyz", frames, format="extxyz")
    return [str(folder / "nacl.cif"), str(folder / "POSCAR-si"), str(folder / "frames.extxyz")]


def test_featurize_builds_then_reuses_cache(tmp_path):
    inputs = make_inputs(tmp_path)
    out = tmp_path / "graphs"
    first = RUNNER.invoke(app, ["featurize", *inputs, "--output", str(out), "-k", "16", "-q"])
    assert first.exit_code == 0, first.output
    assert "featurized 4 structures (4 built, 0 from cache)" in first.output
    second = RUNNER.invoke(app, ["featurize", *inputs, "--output", str(out), "-k", "16", "-q"])
    assert "(0 built, 4 from cache)" in second.output
    index = next(out.glob("graphs-*/index.jsonl"))
    rows = [json.loads(line) for line in index.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["nacl", "POSCAR-si", "tric", "nacl-strained"]
    assert all(r["bonds"] > 0 and r["triplets"] > 0 for r in rows)


def test_featurize_skips_bad_input_and_exits_nonzero(tmp_path):
    inputs = make_inputs(tmp_path)
    (tmp_path / "empty.cif").write_text("")
    (tmp_path / "POSCAR_bad").write_text("x\n1.0\n4 0 0\n0 4 0\n0 0 4\nNa Xx\n1 1\nDirect\n"
                                         "0 0 0\n0.5 0.5 0.5\n")
    bad = [str(tmp_path / "empty.cif"), str(tmp_path / "POSCAR_bad")]
    result = RUNNER.invoke(app, ["featurize", bad[0], *inputs, bad[1], "-o",
                                 str(tmp_path / "g"), "-q"])
    assert result.exit_code == 1
    assert "featurized 4 structures" in result.output and "2 skipped" in result.output
    assert f"skipped {bad[0]}: file is empty" in result.output
    assert f"skipped {bad[1]}: unknown element 'Xx'" in result.output
    assert "Traceback" not in result.output
    failures = next((tmp_path / "g").glob("graphs-*/failures.jsonl")).read_text().splitlines()
    assert len(failures) == 2


def test_isolated_atom_is_skipped_with_its_reason(tmp_path):
    # a dimer in a 30 Å box: fine as a structure, but no neighbour within a 1.5 Å cutoff
    atoms = ase.Atoms("N2", positions=[[0, 0, 0], [0, 0, 2.0]], cell=[30, 30, 30], pbc=True)
    ase.io.write(tmp_path / "dimer.xyz", atoms, format="extxyz")
    result = RUNNER.invoke(app, ["featurize", str(tmp_path / "dimer.xyz"), "-o",
                                 str(tmp_path / "g"), "--cutoff", "1.5", "-q"])
    assert result.exit_code == 1
    assert "has no neighbour within the graph cutoff 1.5 Å" in result.output


def test_real_subprocess_one_line_error_no_traceback(tmp_path):
    (tmp_path / "empty.cif").write_text("")
    proc = subprocess.run([sys.executable, "-m", "crystaldos.cli", "validate",
                           str(tmp_path / "empty.cif")], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"{tmp_path / 'empty.cif'}: file is empty"
    assert "Traceback" not in proc.stderr + proc.stdout


def test_grids_and_version():
    assert "phdos66" in RUNNER.invoke(app, ["grids"]).output
    assert RUNNER.invoke(app, ["--version"]).output.startswith("crystaldos ")


def test_train_command_writes_a_model(toy_dataset_file, tmp_path) -> None:
    out = tmp_path / "m"
    result = RUNNER.invoke(app, ["train", "--dataset", str(toy_dataset_file), "--preset",
                                      "tiny", "--epochs", "1", "--output", str(out), "-q",
                                      "--accelerator", "cpu"])
    assert result.exit_code == 0, result.output
    assert "val composition_knn" in result.output
    assert (out / "weights.pt").exists() and (out / "card.json").exists()


@pytest.mark.slow
def test_train_runs_data_parallel_on_two_cpu_processes(toy_dataset_file, tmp_path) -> None:
    """Lightning's DDP launcher re-runs the command in two processes; no code change needed."""
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "crystaldos.cli", "train", "--dataset", str(toy_dataset_file),
           "--preset", "tiny", "--epochs", "2", "--output", str(out), "-q", "--accelerator",
           "cpu", "--devices", "2", "--strategy", "ddp"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((out / "card.json").read_text())["training"]["epochs_run"] == 2
