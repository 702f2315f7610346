import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from crystaldos.cli import app
from crystaldos.models.saving import load_model
from crystaldos.prediction.schema import Row
from crystaldos.screening import ScreenStoreError, read_table, screen, write_report
from crystaldos.screening.store import ScreenStore
from crystaldos.spectra.grid import Grid
from crystaldos.spectra.spectrum import Spectrum
from crystaldos.structures.sources import count_structures
from tests.conftest import rocksalt, toy_crystals
from tests.prediction.test_predict import mixed_inputs

runner = CliRunner()


def jsonl_inputs(path: Path, n: int, corrupt_every: int = 0, seed: int = 0) -> tuple[Path, int]:
    """``n`` JSON lines of perturbed, replicated toy crystals; every ``corrupt_every``-th line
    is broken in one of five ways. Returns the path and the number of bad lines."""
    rng = np.random.default_rng(seed)
    base = toy_crystals(16, seed=seed)
    bad = 0
    with path.open("w") as handle:
        for k in range(n):
            rec = base[k % len(base)].to_record()
            rec["id"] = f"s{k}"
            frac = np.asarray(rec["frac_coords"]) + rng.normal(0, 0.01, (len(rec["species"]), 3))
            rec["frac_coords"] = frac.tolist()
            if corrupt_every and k % corrupt_every == corrupt_every - 1:
                bad += 1
                kind = (k // corrupt_every) % 5
                if kind == 0:
                    handle.write("{not json\n")
                    continue
                if kind == 1:
                    rec["species"] = ["Xx"] * len(rec["species"])
                elif kind == 2:
                    rec["lattice"] = np.zeros((3, 3)).tolist()
                elif kind == 3:
                    rec["frac_coords"] = [[0, 0, 0]] * len(rec["species"])  # atoms on top
                else:
                    rec["frac_coords"][0] = [float("nan")] * 3
            handle.write(json.dumps(rec) + "\n")
    return path, bad


def test_screen_rows_failures_resume_and_readers(tiny_model_dir: Path, tmp_path: Path) -> None:
    inputs = mixed_inputs(tmp_path / "in")
    bundle = load_model(tiny_model_dir)
    out = tmp_path / "run"
    first = screen(inputs, bundle, out, temperatures=(100.0, 300.0), batch_size=2)
    assert (first.written, first.failed, first.skipped) == (4, 2, 0)
    again = screen(inputs, bundle, out, temperatures=(100.0, 300.0), batch_size=2)
    assert (again.written, again.failed, again.skipped) == (0, 0, 6)
    rows = read_table(out).to_pandas()
    assert sorted(rows["id"]) == ["frame-0", "frame-1", "nacl", "si"]
    assert rows["key"].is_unique and len(rows["dos"].iloc[0]) == 51
    assert {"cv_J_per_molK_300K", "debye_temperature_K", "stable"} <= set(rows.columns)
    failures = read_table(out, "failures").to_pylist()
    assert sorted(Path(f["file"]).name for f in failures) == ["bad.json", "empty.cif"]
    assert all(f["reason"] for f in failures)
    import pandas as pd

    shard = next(out.glob("rows-*.parquet"))
    assert len(pd.read_parquet(shard)) == pq.read_table(shard).num_rows == 4
    with pytest.raises(ScreenStoreError, match="temperatures"):
        screen(inputs, bundle, out, temperatures=(300.0,))


def test_store_commits_shards_atomically_and_cleans_leftovers(tmp_path: Path) -> None:
    store = ScreenStore(tmp_path, {"a": 1}, {"key": "str", "x": "float"})
    grid = Grid(0.0, 1.0, 3, "cm^-1", "phonon")
    store.add_row(Row(Spectrum(np.ones(3), grid), {"key": "k1", "x": float("nan")},
                      rocksalt()))
    (tmp_path / ".rows-00009.parquet.tmp").write_text("half written")
    assert store.finished_keys() == set()  # nothing is committed before a flush
    store.flush()
    with pytest.raises(ScreenStoreError, match="in use by a running job"):
        ScreenStore(tmp_path, {"a": 1}, {"key": "str", "x": "float"})  # a second writer
    store.close()
    reopened = ScreenStore(tmp_path, {"a": 1}, {"key": "str", "x": "float"})
    assert reopened.finished_keys() == {"k1"}
    assert not list(tmp_path.glob(".*.tmp"))
    assert read_table(tmp_path).column("x").to_pylist() == [None]  # NaN stored as null


def test_cli_screen_rank_report(tiny_model_dir: Path, tmp_path: Path) -> None:
    inputs = mixed_inputs(tmp_path / "in")
    assert count_structures(inputs) == 6
    out = tmp_path / "run"
    result = runner.invoke(app, ["screen", *inputs, "-m", str(tiny_model_dir), "-o", str(out),
                                 "-q"])
    assert result.exit_code == 1, result.output  # as predict: 1 when structures were skipped
    assert "4 rows, 2 failures" in result.output and "skipped" in result.output
    result = runner.invoke(app, ["rank", str(out), "--by", "debye_temperature_K", "--top", "2",
                                 "-o", str(tmp_path / "short.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "short.csv").read_text().count("\n") == 3
    result = runner.invoke(app, ["rank", str(out), "--by", "nope"])
    assert result.exit_code != 0 and "no column 'nope'" in str(result.exception or result.output)
    page = write_report(out, by="debye_temperature_K").read_text()
    assert "Failures (2)" in page and page.count("data:image/png;base64") >= 3
    assert (out / "heatmap_debye_temperature_K.png").exists()


def test_local_workers_give_the_same_rows(tiny_model_dir: Path, tmp_path: Path) -> None:
    path, _ = jsonl_inputs(tmp_path / "in.jsonl", 120)
    bundle = load_model(tiny_model_dir)
    one = screen([path], bundle, tmp_path / "one", batch_size=16, properties=False)
    two = screen([path], bundle, tmp_path / "two", batch_size=16, properties=False, workers=2,
                 chunk_size=8)
    assert one.written == two.written == 120
    a = read_table(tmp_path / "one").to_pandas().set_index("key").sort_index()
    b = read_table(tmp_path / "two").to_pandas().set_index("key").sort_index()
    np.testing.assert_array_equal(np.stack(a["dos"]), np.stack(b["dos"]))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["dask", "ray"])
def test_cluster_backends_give_the_same_rows(backend: str, tiny_model_dir: Path,
                                             tmp_path: Path) -> None:
    pytest.importorskip({"dask": "distributed", "ray": "ray"}[backend])
    path, _ = jsonl_inputs(tmp_path / "in.jsonl", 60, corrupt_every=10)
    bundle = load_model(tiny_model_dir)
    local = screen([path], bundle, tmp_path / "local", batch_size=16)
    other = screen([path], bundle, tmp_path / backend, batch_size=16, workers=2,
                   backend=backend, chunk_size=8)
    assert (local.written, local.failed) == (other.written, other.failed) == (54, 6)
    a = read_table(tmp_path / "local").to_pandas().set_index("key").sort_index()
    b = read_table(tmp_path / backend).to_pandas().set_index("key").sort_index()
    np.testing.assert_array_equal(np.stack(a["dos"]), np.stack(b["dos"]))
    assert a.drop(columns="dos").equals(b.drop(columns="dos"))


@pytest.mark.slow
def test_ten_thousand_with_corrupt_entries_and_a_sigkill(tiny_model_dir: Path,
                                                         tmp_path: Path) -> None:
    path, bad = jsonl_inputs(tmp_path / "in.jsonl", 10_000, corrupt_every=20)
    assert bad == 500  # 5 %
    command = [sys.executable, "-m", "crystaldos.cli", "screen", str(path), "-m",
               str(tiny_model_dir), "-o", str(tmp_path / "killed"), "-q", "--shard-size", "500",
               "--no-properties"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while len(list((tmp_path / "killed").glob("rows-*.parquet"))) < 3:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = read_table(tmp_path / "killed").num_rows
    assert 0 < partial < 10_000 - bad
    resumed = subprocess.run(command, env=env, capture_output=True, text=True)
    assert resumed.returncode == 1 and "already done" in resumed.stdout  # 1: bad lines skipped
    clean = subprocess.run([*command[:8], str(tmp_path / "clean"), *command[9:]], env=env,
                           capture_output=True, text=True)
    assert clean.returncode == 1, clean.stderr
    killed_rows = read_table(tmp_path / "killed").to_pandas()
    clean_rows = read_table(tmp_path / "clean").to_pandas()
    assert len(killed_rows) == len(clean_rows) == 10_000 - bad
    assert killed_rows["key"].is_unique
    assert set(killed_rows["key"]) == set(clean_rows["key"])
    a = killed_rows.set_index("key").sort_index()
    b = clean_rows.set_index("key").sort_index()
    np.testing.assert_allclose(np.stack(a["dos"]), np.stack(b["dos"]), atol=1e-5)
    failures = read_table(tmp_path / "killed", "failures").to_pandas()
    assert len(failures) == bad and failures["key"].is_unique


def test_a_cell_of_a_thousand_atoms_is_screened(tiny_model_dir: Path, tmp_path: Path) -> None:
    from tests.conftest import rocksalt

    big = rocksalt().to_ase().repeat((5, 5, 5))  # 1,000 atoms
    big.write(tmp_path / "big.extxyz")
    summary = screen([str(tmp_path / "big.extxyz")], load_model(tiny_model_dir), tmp_path / "run")
    assert summary.written == 1
    row = read_table(tmp_path / "run").to_pylist()[0]
    assert row["n_atoms"] == 1000 and row["cell_formula"] == "Na500Cl500"
    assert row["formula"] == "NaCl" and len(row["dos"]) == 51


def test_workers_do_not_hang_when_the_parent_runs_torch_threads(tiny_model_dir: Path,
                                                                tmp_path: Path) -> None:
    path, _ = jsonl_inputs(tmp_path / "in.jsonl", 40)
    script = (
        "import torch\n"
        "torch.set_num_threads(2)\n"
        "torch.ones(500, 500) @ torch.ones(500, 500)\n"  # the parent's thread pool is running
        "from crystaldos.models.saving import load_model\n"
        "from crystaldos.screening import screen\n"
        f"s = screen([{str(path)!r}], load_model({str(tiny_model_dir)!r}), "
        f"{str(tmp_path / 'out')!r}, workers=2, properties=False)\n"
        "print(s.written)\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "40"


def test_a_run_is_not_resumed_with_other_weights(tiny_model_dir: Path, tmp_path: Path) -> None:
    import torch

    inputs = mixed_inputs(tmp_path / "in")
    bundle = load_model(tiny_model_dir)
    screen(inputs, bundle, tmp_path / "run", properties=False)
    with torch.no_grad():
        next(bundle.model.parameters()).add_(0.1)  # same name, other weights
    with pytest.raises(ScreenStoreError, match="model_weights_sha256"):
        screen(inputs, bundle, tmp_path / "run", properties=False)
