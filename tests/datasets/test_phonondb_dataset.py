from pathlib import Path

import numpy as np
import pytest

from crystaldos.datasets.named import load_dataset
from crystaldos.datasets.phonondb import load_phonondb, phonondb_spectrum
from crystaldos.errors import DatasetError
from crystaldos.reference.phonondb import phonons_from_archive, read_archive
from crystaldos.reference.shards import RecordShards
from crystaldos.spectra.grid import PHDOS_221
from tests.reference.phonondb_fixtures import cu_archive_files, pack_archive


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("phonondb")
    res = phonons_from_archive(read_archive(pack_archive(cu_archive_files()), "cu"),
                               mesh_length=20)
    store = RecordShards(folder, prefix="phonondb")
    store.append(res.to_record("mp-30", "train", "Cu"))
    store.append(res.to_record("mp-31", "val", "Cu"))
    return folder


def test_phonondb_records_load_as_unit_area_spectra(built: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    data = load_phonondb(built)
    assert data.grid == PHDOS_221 and data.normalization == "area"
    assert data.split_ids() == {"train": ["mp-30"], "val": ["mp-31"]}
    dos = data.records[0].dos
    assert dos.sum() * PHDOS_221.step == pytest.approx(1.0)
    assert PHDOS_221.points[np.argmax(dos)] > 100  # copper's peaks lie at 150-250 cm^-1
    assert data.records[0].meta["modes_outside_grid"] == pytest.approx(0.0, abs=1e-6)
    assert data.records[0].crystal.n_atoms == 1
    monkeypatch.setenv("CRYSTALDOS_PHONONDB", str(built))
    assert load_dataset("phonondb").ids == ["mp-30", "mp-31"]


def test_smearing_keeps_the_modes(built: Path) -> None:
    record = next(RecordShards(built, prefix="phonondb").records())
    raw = phonondb_spectrum(record, smearing=0.0)
    smooth = phonondb_spectrum(record, smearing=15.0)
    assert raw.sum() * 20 == pytest.approx(3.0) and smooth.sum() * 20 == pytest.approx(3.0)
    assert smooth.max() < raw.max()


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no phonondb records"):
        load_phonondb(tmp_path)
