import io
import itertools
import json
import time
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from crystaldos.web.app import create_app
from tests.conftest import rocksalt, silicon_primitive


@pytest.fixture(scope="module")
def client(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    run = tmp_path_factory.mktemp("web")
    return TestClient(create_app(run, [str(tiny_model_dir), "xtb-edos"], max_upload_mb=0.05))


def cif_bytes(crystal) -> bytes:
    out = io.BytesIO()
    crystal.to_ase().write(out, format="cif")
    return out.getvalue()


def test_one_structure_gives_both_kinds_and_downloads(client: TestClient) -> None:
    r = client.post("/api/structure", files={"file": ("NaCl.cif", cif_bytes(rocksalt()))},
                    data={"t_min": "50", "t_max": "500"})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["structure"]["formula"] == "NaCl" and result["file"] == "NaCl.cif"
    by_kind = {m["kind"]: m for m in result["models"]}
    phonon, electronic = by_kind["phonon"], by_kind["electronic"]
    assert len(phonon["x"]) == len(phonon["dos"]) == 51
    assert len(electronic["x"]) == 300 and electronic["unit"] == "eV"
    assert phonon["curves"]["T"][0] == 50 and phonon["curves"]["T"][-1] == 500
    assert 300.0 in phonon["curves"]["T"]
    cv = phonon["curves"]["cv"]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(cv))  # Cv rises with T
    assert electronic["properties"]["electronic_class"]["value"] in ("metal", "semiconductor",
                                                                     "insulator")
    assert "xTB" in electronic["caveat"]
    spectra = client.get(f"/api/results/{result['id']}/spectra.csv")
    assert spectra.status_code == 200 and spectra.text.count("\n") == 1 + 51 + 300
    table = client.get(f"/api/results/{result['id']}/properties.csv").text
    assert "debye_temperature_K" in table and "band_gap_eV" in table
    assert client.get(f"/api/results/{result['id']}/result.json").json()["id"] == result["id"]


def test_paste_and_examples(client: TestClient) -> None:
    poscar = silicon_primitive().to_ase()
    out = io.StringIO()
    poscar.write(out, format="vasp")
    r = client.post("/api/structure", data={"text": out.getvalue()})
    assert r.status_code == 200 and r.json()["file"] == "pasted.vasp"
    r = client.post("/api/structure", data={"example": "MgO (rock salt)"})
    assert r.status_code == 200 and r.json()["structure"]["formula"] == "MgO"


@pytest.mark.parametrize(("files", "data", "message"), [
    ({"file": ("broken.cif", b"data_x\n_cell_length_a oops\n")}, {}, "broken.cif: "),
    ({"file": ("notes.txt", b"hello")}, {}, "notes.txt: unknown structure format"),
    ({"file": ("big.cif", b"x" * 60_000)}, {}, "big.cif: larger than the 0.05 MB limit"),
    ({"file": ("empty.cif", b"")}, {}, "empty.cif: the file is empty"),
    ({}, {}, "choose a file, paste a structure or pick an example"),
    ({}, {"example": "Unobtainium"}, "'Unobtainium': no such example"),
    ({}, {"example": "Cu (fcc)", "t_min": "500", "t_max": "100"}, "temperature range"),
    ({"file": ("two.extxyz", b"")}, {}, "two.extxyz: the file is empty"),
])
def test_bad_input_gets_one_line_on_the_page(client: TestClient, files, data, message) -> None:
    r = client.post("/api/structure", files=files or None, data=data)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error.startswith(message) or message in error
    assert "\n" not in error and "/tmp" not in error  # the user's name, not the server's path


def test_ids_cannot_reach_outside_the_run_directory(client: TestClient) -> None:
    assert client.get("/api/results/..%2F..%2Fetc/passwd").status_code in (400, 404)
    r = client.get("/api/results/" + "0" * 32 + "/secret.txt")
    assert r.status_code == 400 and "no such result file" in r.json()["error"]
    assert client.get("/api/jobs/notanid").json()["error"] == "'notanid': no such job"


def wait_done(client: TestClient, job_id: str, timeout: float = 120.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = client.get(f"/api/jobs/{job_id}").json()
        if state["state"] in ("done", "failed"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not finished: {state}")


def test_batch_job_runs_ranks_reports_and_survives_a_restart(client: TestClient,
                                                              tiny_model_dir: Path) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("set/NaCl.cif", cif_bytes(rocksalt()))
        zf.writestr("set/NaCl-big.cif", cif_bytes(rocksalt(5.9)))
        zf.writestr("../Si.cif", cif_bytes(silicon_primitive()))
        zf.writestr("broken.cif", "data_x\n")
    r = client.post("/api/jobs", files={"file": ("set.zip", archive.getvalue())},
                    data={"model": tiny_model_dir.name, "by": "debye_temperature_K"})
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["total"] == 4
    state = wait_done(client, job["id"])
    root = client.app.state.root
    assert state["state"] == "done", state
    results = state["results"]
    assert results["by"] == "debye_temperature_K" and len(results["rows"]) == 3
    values = [row["debye_temperature_K"] for row in results["rows"]]
    assert values == sorted(values, reverse=True)
    (failure,) = results["failures"]
    assert failure["input"] == "broken.cif" and str(root) not in failure["reason"]
    report = client.get(f"/jobs/{job['id']}/report")
    assert report.status_code == 200 and "crystaldos screening report" in report.text
    # a new server on the same run directory lists the job with its results
    again = TestClient(create_app(root, [str(tiny_model_dir)]))
    listed = {j["id"]: j for j in again.get("/api/jobs").json()}
    assert listed[job["id"]]["state"] == "done"
    assert again.get(f"/api/jobs/{job['id']}").json()["results"]["rows"] == results["rows"]


def test_a_job_stopped_mid_way_resumes_when_the_server_starts(client: TestClient,
                                                              tiny_model_dir: Path) -> None:
    r = client.post("/api/jobs", files={"file": ("NaCl.cif", cif_bytes(rocksalt()))},
                    data={"model": tiny_model_dir.name})
    job_id = r.json()["id"]
    assert wait_done(client, job_id)["state"] == "done"
    root = client.app.state.root
    job_file = root / "jobs" / job_id / "job.json"
    stored = json.loads(job_file.read_text())
    job_file.write_text(json.dumps({**stored, "state": "running", "done": 0}))  # killed
    again = TestClient(create_app(root, [str(tiny_model_dir)]))
    state = wait_done(again, job_id)
    assert state["state"] == "done" and state["done"] == 1 and len(state["results"]["rows"]) == 1


def test_bad_batch_uploads(client: TestClient, tiny_model_dir: Path) -> None:
    r = client.post("/api/jobs", files={"file": ("x.txt", b"hello")},
                    data={"model": tiny_model_dir.name})
    assert r.status_code == 400 and "unknown structure format" in r.json()["error"]
    r = client.post("/api/jobs", files={"file": ("x.zip", b"not a zip")},
                    data={"model": tiny_model_dir.name})
    assert r.status_code == 400 and "not a readable zip archive" in r.json()["error"]
    r = client.post("/api/jobs", files={"file": ("x.cif", cif_bytes(rocksalt()))},
                    data={"model": "nonexistent"})
    assert r.status_code == 400 and "not one of the served models" in r.json()["error"]


def test_cli_serve_passes_its_options(monkeypatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import crystaldos.web.app as web_app
    from crystaldos.cli import app

    seen = {}
    monkeypatch.setattr(web_app, "serve", lambda run_dir, models, **kw: seen.update(
        run_dir=run_dir, models=models, **kw))
    result = CliRunner().invoke(app, ["serve", "--port", "8123", "-m", "phdos", "--run-dir",
                                      str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    assert seen == {"run_dir": tmp_path, "models": ["phdos"], "host": "127.0.0.1",
                    "port": 8123, "device": "cpu", "max_upload_mb": 20.0}


def test_electronic_model_with_heads_shows_gap_and_metal_probability(
        tmp_path: Path) -> None:
    client = TestClient(create_app(tmp_path, ["pbe-edos"]))
    r = client.post("/api/structure", files={"file": ("NaCl.cif", cif_bytes(rocksalt()))})
    assert r.status_code == 200, r.text
    (model,) = r.json()["models"]
    shown = model["properties"]
    assert list(shown)[:2] == ["band_gap_direct_eV", "metal_probability"]
    assert 0.0 <= shown["metal_probability"]["value"] < 0.5  # NaCl, from the gap trees
    assert shown["metal_probability"]["std"] is None  # one set of trees, no member spread
    low, high = shown["band_gap_direct_eV"]["interval95"]  # the trees' 95 % gap interval
    assert low <= shown["band_gap_direct_eV"]["value"] <= high
    assert "dos_std" in model and "caveat" in model
