import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from crystaldos.reference.phonondb import (
    FINE_GRID,
    PhonondbError,
    mode_histogram,
    parse_conf,
    phonons_from_archive,
    primitive_cell,
    read_archive,
)
from crystaldos.reference.shards import RecordShards
from tests.reference.phonondb_fixtures import cu_archive_files, make_source, pack_archive

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cu_files() -> dict[str, str]:
    return cu_archive_files()


def test_conf_with_fractions_and_diagonal_dim() -> None:
    supercell, primitive = parse_conf("DIM = 2 2 3\nPRIMITIVE_AXIS = 0 1/2 1/2 1/2 0 1/2 "
                                      "1/2 1/2 0 # fcc\n", "x")
    assert np.array_equal(supercell, np.diag([2, 2, 3]))
    assert primitive[0, 1] == 0.5 and primitive[2, 2] == 0.0
    assert parse_conf("DIM = 1 1 1\nPRIMITIVE_AXIS = auto\n", "x")[1] is None
    with pytest.raises(PhonondbError, match=r"x: phonopy\.conf has no DIM"):
        parse_conf("PRIMITIVE_AXIS = auto", "x")
    with pytest.raises(PhonondbError, match="DIM needs 3 or 9 numbers"):
        parse_conf("DIM = 2 2", "x")


def test_copper_phonons_from_a_self_made_archive(cu_files: dict[str, str]) -> None:
    files = read_archive(pack_archive(cu_files), "cu.tar.lzma")
    res = phonons_from_archive(files, mesh_length=20)
    assert res.species == ("Cu",) and abs(np.linalg.det(res.lattice)) == pytest.approx(
        3.61**3 / 4, rel=1e-6)
    # 3 modes per primitive cell, all inside the fine grid, none imaginary
    assert res.histogram.sum() == pytest.approx(3.0, rel=1e-9)
    assert res.below == res.above == 0 and res.imaginary_fraction == 0
    # EMT copper: top of the spectrum near 7-8 THz (230-270 cm^-1), like the real metal
    assert 200 < res.max_frequency < 300
    # Dulong-Petit at 800 K: Cv -> 3R per mole of atoms (one atom per primitive cell)
    assert res.thermal["cv_J_per_K_mol"][-1] == pytest.approx(3 * 8.314, rel=0.02)
    assert primitive_cell(files)[1] == ("Cu",)


def test_histogram_counts_modes_outside_the_grid() -> None:
    freq = np.array([[-2000.0, 5.0, 300.0], [6000.0, 15.0, 300.0]])
    hist, below, above = mode_histogram(freq, np.array([1.0, 3.0]))
    assert below == pytest.approx(1 / 4 / 1) and above == pytest.approx(3 / 4)
    assert hist.sum() + below + above == pytest.approx(3.0)
    assert hist[np.searchsorted(FINE_GRID.points, 5.0)] == pytest.approx(0.25)


def test_bad_archives_are_named(cu_files: dict[str, str]) -> None:
    with pytest.raises(PhonondbError, match=r"bad\.tar\.lzma: not a readable"):
        read_archive(b"garbage", "bad.tar.lzma")
    lacking = {k: v for k, v in cu_files.items() if k != "FORCE_SETS"}
    with pytest.raises(PhonondbError, match="lacks FORCE_SETS"):
        read_archive(pack_archive(lacking), "y.tar.lzma")
    broken = dict(cu_files, **{"FORCE_SETS": "1\n2\n"})
    with pytest.raises(PhonondbError, match=r"z\.tar\.lzma: phonopy"):
        phonons_from_archive(read_archive(pack_archive(broken), "z.tar.lzma"), mesh_length=10)


def test_record_shards_seal_parts_and_resume(tmp_path: Path) -> None:
    store = RecordShards(tmp_path, prefix="p", part_size=2)
    for k in range(3):
        store.append({"id": str(k)})
    assert [p.name for p in store.parts()] == ["p-0000.jsonl.gz", "p-0001.jsonl"]
    with open(tmp_path / "p-0001.jsonl", "a") as handle:
        handle.write('{"id": "tor')  # a kill in mid-line
    again = RecordShards(tmp_path, prefix="p", part_size=2)
    assert again.done_ids() == {"0", "1", "2"}
    again.append({"id": "3"})
    assert [r["id"] for r in again.records()] == ["0", "1", "2", "3"]


@pytest.mark.slow
def test_builder_script_builds_train_val_only_and_resumes(cu_files: dict[str, str],
                                                          tmp_path: Path) -> None:
    data = pack_archive(cu_files)
    index = make_source(tmp_path / "src", [("mp-1", "train", data), ("mp-2", "val", data),
                                           ("mp-3", "test", data), ("mp-4", "train", None),
                                           ("mp-5", "train", b"junk")])
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "scripts" / "make_phonondb.py"), "--source",
               str(tmp_path / "src"), "--out", str(out), "--index", str(index),
               "--workers", "2", "--mesh-length", "10"]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    store = RecordShards(out, prefix="phonondb")
    assert sorted(r["id"] for r in store.records()) == ["mp-1", "mp-2"]  # never the test id
    reasons = {f["id"]: f["reason"] for f in store.failures()}
    assert set(reasons) == {"mp-4", "mp-5"} and "not a readable" in reasons["mp-5"]
    rerun = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert "0 materials to compute" in rerun.stdout
    summary = subprocess.run([*command, "--summary"], capture_output=True, text=True, cwd=ROOT)
    assert json.loads((out / "summary.json").read_text())["records"] == 2, summary.stderr
    structures = subprocess.run([*command, "--test-structures"], capture_output=True, text=True,
                                cwd=ROOT)
    assert structures.returncode == 0, structures.stderr
    lines = gzip.decompress((out / "test-structures.jsonl.gz").read_bytes()).decode().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["id"] == "mp-3"
    assert "hist" not in json.loads(lines[0])
