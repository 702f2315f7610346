import json
import zipfile

import ase.io
import numpy as np
import pytest

from crystaldos.datasets import (
    jarvis_cache_file,
    jarvis_dos_dataset,
    load_id_prop_folder,
    load_jarvis,
    load_jarvis_edos,
    load_jarvis_edos_sample50,
    load_jarvis_phonon_benchmark,
    load_jsonl,
    load_mat2spec_edos,
    load_mp_phonon,
)
from crystaldos.errors import DatasetError
from crystaldos.spectra import EDOS_128, EDOS_300, PHDOS_66, Grid
from tests.conftest import rocksalt, silicon_primitive


def jarvis_entry(crystal, jid, n=66):
    atoms = {"lattice_mat": crystal.lattice.tolist(), "coords": crystal.frac_coords.tolist(),
             "elements": crystal.species, "cartesian": False,
             "props": ["" for _ in crystal.species]}
    return {"jid": jid, "atoms": atoms, "pdos_elast": list(np.linspace(0, 1, n)),
            "edos_up": "na"}


def write_jarvis_zip(cache_dir, dataset, entries):
    path = jarvis_cache_file(dataset, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(path.name[:-4], json.dumps(entries))  # member name = js_tag
    return path


def test_jarvis_offline_reads_cached_figshare_file(tmp_path):
    entries = [jarvis_entry(rocksalt(), "JVASP-1"), jarvis_entry(silicon_primitive(), "JVASP-2"),
               jarvis_entry(rocksalt(), "JVASP-3", n=10)]  # wrong length: skipped
    write_jarvis_zip(tmp_path, "edos_pdos", entries)
    raw = load_jarvis("edos_pdos", tmp_path, offline=True)
    assert [e["jid"] for e in raw] == ["JVASP-1", "JVASP-2", "JVASP-3"]
    ds = jarvis_dos_dataset(raw, "pdos_elast")
    assert ds.ids == ["JVASP-1", "JVASP-2"] and ds.grid == PHDOS_66
    assert ds[1].crystal.formula == "Si2"


def test_jarvis_online_path_uses_jarvis_tools_with_cached_file(tmp_path):
    # with the file already in the cache, jarvis-tools' own loader reads it without network
    write_jarvis_zip(tmp_path, "dft_3d", [jarvis_entry(rocksalt(), "JVASP-9")])
    raw = load_jarvis("dft_3d", tmp_path, offline=False)
    assert raw[0]["jid"] == "JVASP-9"


def test_jarvis_offline_missing_and_corrupt(tmp_path):
    with pytest.raises(DatasetError, match="offline mode forbids"):
        load_jarvis("dft_3d", tmp_path, offline=True)
    jarvis_cache_file("dft_3d", tmp_path).write_text("not a zip")
    with pytest.raises(DatasetError, match="not a valid JARVIS"):
        load_jarvis("dft_3d", tmp_path, offline=True)


def test_id_prop_folder_both_layouts(tmp_path):
    ase.io.write(tmp_path / "a.vasp", rocksalt().to_ase(), format="vasp")
    ase.io.write(tmp_path / "b.cif", silicon_primitive().to_ase())
    grid = Grid(0, 20, 5, "cm^-1", "phonon")
    (tmp_path / "id_prop.csv").write_text("a.vasp,0 1 2 3 4\nb.cif,4,3,2,1,0\n")
    ds = load_id_prop_folder(tmp_path, grid, "max")
    assert ds.ids == ["a", "b"]
    np.testing.assert_allclose(ds.spectra(), [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]])
    (tmp_path / "grid.json").write_text(json.dumps({**grid.to_dict(), "normalization": "sum"}))
    assert load_id_prop_folder(tmp_path).normalization == "sum"
    (tmp_path / "id_prop.csv").write_text("a.vasp,0 1 2\n")
    with pytest.raises(DatasetError, match=r"id_prop\.csv:1: 3 DOS values but the grid has 5"):
        load_id_prop_folder(tmp_path, grid)


def test_jsonl_dataset(tmp_path):
    grid = Grid(0, 20, 3, "cm^-1", "phonon")
    lines = [{**rocksalt().to_record(), "id": "x1", "dos": [0, 1, 0.5], "split": "train",
              "grid": grid.to_dict(), "normalization": "max"},
             {**silicon_primitive().to_record(), "id": "x2", "dos": None, "split": "valid"}]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(map(json.dumps, lines)))
    ds = load_jsonl(path)
    assert ds.grid == grid and ds.normalization == "max"
    assert ds.split("val").ids == ["x2"] and ds.with_spectra().ids == ["x1"]
    path.write_text(json.dumps(lines[0]) + "\n{broken\n")
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: invalid JSON"):
        load_jsonl(path)


def test_jarvis_phonon_benchmark(shared_datasets):
    ds = load_jarvis_phonon_benchmark(shared_datasets, structures="dft3d", validate=False)
    summary = ds.summary()
    assert summary["records"] == 14243 and summary["with_structure"] == 3756
    assert summary["splits"] == {"train": 11395, "val": 1424, "test": 1424}
    assert all(r.dos is None for r in ds.split("test"))  # held back
    train = ds.split("train").with_spectra().spectra()
    assert train.shape == (11395, 66) and np.allclose(train.max(1), 1.0)


def test_mp_phonon(shared_datasets):
    ds = load_mp_phonon(shared_datasets, validate=False)
    assert len(ds) == 1522 and ds.grid.count == 51
    assert {k: len(v) for k, v in ds.split_ids().items()} == {"train": 1192, "val": 141,
                                                              "test": 189}
    assert ds[0].meta["mp_id"] == "mp-1000" and ds[0].crystal.formula == "BaTe"


def test_jarvis_edos_from_cached_edos_pdos_file(tmp_path):
    entries = [jarvis_entry(rocksalt(), "JVASP-1"), jarvis_entry(silicon_primitive(), "JVASP-2")]
    entries[0]["edos_up"] = list(np.linspace(0.0, 0.3, 300))  # JVASP-2 keeps "na": skipped
    write_jarvis_zip(tmp_path, "edos_pdos", entries)
    ds = load_jarvis_edos(tmp_path, offline=True)
    assert ds.ids == ["JVASP-1"] and ds.grid == EDOS_300 and ds.normalization == "none"
    assert ds[0].dos[-1] == pytest.approx(0.3)


def test_jarvis_edos_sample50(shared_datasets):
    ds = load_jarvis_edos_sample50(shared_datasets)
    assert len(ds) == 50 and ds.grid == EDOS_300
    values = ds.spectra()
    assert values.shape == (50, 300) and values.min() >= 0 and values.max() < 0.4
    # spin-up DOS per valence electron: the occupied window holds at most about half an electron
    occupied = values[:, :100].sum(1) * EDOS_300.step
    assert occupied.max() < 0.6


def write_mat2spec_folder(root, structures, values):
    (root / "label_edos").mkdir(parents=True)
    (root / "materials_with_edos").mkdir()
    ids = [f"mp-{k + 1}" for k in range(len(structures))]
    (root / "label_edos" / "mpids.csv").write_text("mpid\n" + "\n".join(ids) + "\n")
    np.save(root / "label_edos" / "total_dos_128.npy", np.asarray(values))
    for ident, structure in zip(ids, structures, strict=True):
        payload = {"structure": structure.as_dict(), "material_id": ident}
        (root / "materials_with_edos" / f"dos_{ident}.json").write_text(json.dumps(payload))
    return ids


def test_mat2spec_edos_layout(tmp_path):
    from pymatgen.core import Lattice, Structure

    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    si = Structure(Lattice.cubic(5.43), ["Si", "Si"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    values = np.random.default_rng(0).random((2, 128))
    ids = write_mat2spec_folder(tmp_path, [nacl, si], values)
    ds = load_mat2spec_edos(tmp_path)
    assert ds.ids == ids and ds.grid == EDOS_128 and ds.grid.points[0] == -4.0
    assert ds[0].crystal.formula == "NaCl" and np.allclose(ds[1].dos, values[1])
    (tmp_path / "materials_with_edos" / "dos_mp-2.json").unlink()
    with pytest.raises(DatasetError, match=r"dos_mp-2\.json: structure file of mp-2 is missing"):
        load_mat2spec_edos(tmp_path)
    assert load_mat2spec_edos(tmp_path, skip_missing=True).ids == ["mp-1"]


def test_mat2spec_edos_bad_array(tmp_path):
    from pymatgen.core import Lattice, Structure

    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    write_mat2spec_folder(tmp_path, [nacl], np.zeros((1, 64)))
    with pytest.raises(DatasetError, match=r"total_dos_128.npy: expected shape \(1, 128\)"):
        load_mat2spec_edos(tmp_path)
