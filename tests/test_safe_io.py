"""Outputs are replaced only by complete new files; run directories take one writer at a time."""

import errno
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from crystaldos.cli import app
from crystaldos.prediction.writers import JsonlWriter, open_writer
from crystaldos.safe_io import DirectoryLock, OutputError, atomic_write_text
from crystaldos.spectra.grid import PHDOS_51
from crystaldos.spectra.spectrum import Spectrum
from tests.conftest import rocksalt

runner = CliRunner()
EARLIER = "".join(json.dumps({"id": f"old-{k}"}) + "\n" for k in range(15))


def _keep_file(tmp_path: Path, name: str = "keep.jsonl") -> Path:
    keep = tmp_path / name
    keep.write_text(EARLIER)
    return keep


def _one_cif(tmp_path: Path) -> str:
    path = tmp_path / "in" / "nacl.cif"
    path.parent.mkdir(parents=True, exist_ok=True)
    rocksalt().to_ase().write(path)
    return str(path)


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")
    with pytest.raises(OutputError, match="is a folder"):
        atomic_write_text(tmp_path, "x")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary file left


def test_writer_abort_keeps_earlier_output(tmp_path: Path) -> None:
    keep = _keep_file(tmp_path, "keep.csv")
    writer = open_writer(keep, {"id": "str"}, PHDOS_51, "max")
    writer.write({"id": "a"}, Spectrum(np.ones(51), PHDOS_51, "max"))
    writer.abort()
    assert keep.read_text() == EARLIER and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("pattern", ["nothing*.cif", "missing.cif", "emptydir"])
def test_predict_that_finds_nothing_keeps_output(tiny_model_dir: Path, tmp_path: Path,
                                                 pattern: str) -> None:
    (tmp_path / "emptydir").mkdir()
    keep = _keep_file(tmp_path)
    result = runner.invoke(app, ["predict", "-m", str(tiny_model_dir), str(tmp_path / pattern),
                                 "-o", str(keep), "-q"])
    assert result.exit_code != 0
    assert "left unchanged" in str(result.exception)
    assert keep.read_text() == EARLIER


@pytest.mark.parametrize("fault", [KeyboardInterrupt(), OSError(errno.ENOSPC,
                                                                "No space left on device")])
def test_interrupted_or_full_disk_predict_keeps_output(tiny_model_dir: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       fault: BaseException) -> None:
    keep = _keep_file(tmp_path)

    def broken_write(self: JsonlWriter, *args: object, **kwargs: object) -> None:
        self.fh.write('{"id": "half')  # a torn line in the temporary file
        raise fault

    monkeypatch.setattr(JsonlWriter, "write", broken_write)
    result = runner.invoke(app, ["predict", "-m", str(tiny_model_dir), _one_cif(tmp_path),
                                 "-o", str(keep), "-q"])
    assert result.exit_code != 0
    if isinstance(fault, OSError):
        assert isinstance(result.exception, OutputError)
        assert str(result.exception) == f"{keep}: cannot write: No space left on device"
    assert keep.read_text() == EARLIER
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "keep.jsonl"]


def test_directory_lock_refuses_a_second_process(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with DirectoryLock(run):
        code = ("from crystaldos.safe_io import DirectoryLock\n"
                f"DirectoryLock({str(run)!r})\n")
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert other.returncode != 0 and "in use by a running job" in other.stderr
    DirectoryLock(run).release()  # free again once the holder is gone
