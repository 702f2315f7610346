import json

import ase
import ase.io
import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from crystaldos.errors import StructureError
from crystaldos.structures import (
    from_arrays,
    from_ase,
    from_jarvis_atoms,
    from_pymatgen,
    from_record,
    iter_inputs,
    read_structure,
    read_structures,
    to_crystal,
)
from crystaldos.structures.sources import StructureFailure
from tests.conftest import rocksalt, triclinic


def same_geometry(a, b):
    np.testing.assert_allclose(a.lattice, b.lattice, atol=1e-6)
    np.testing.assert_array_equal(a.numbers, b.numbers)
    np.testing.assert_allclose(a.positions, b.positions, atol=1e-5)


def test_cif_poscar_extxyz_round_trip(tmp_path):
    crystal = triclinic()
    atoms = crystal.to_ase()
    ase.io.write(tmp_path / "t.cif", atoms)
    ase.io.write(tmp_path / "POSCAR", atoms, format="vasp", direct=True)
    ase.io.write(tmp_path / "t.xyz", atoms, format="extxyz")
    for name, ident in [("t.cif", "t"), ("POSCAR", "POSCAR"), ("t.xyz", "tric")]:
        read = read_structure(tmp_path / name)
        same_geometry(read, crystal)
        assert read.id == ident


def test_multiframe_extxyz_ids(tmp_path):
    frames = []
    for k in range(3):
        atoms = rocksalt(5.6 + 0.01 * k).to_ase()
        atoms.info.clear()
        if k == 1:
            atoms.info["id"] = "custom-id"
        frames.append(atoms)
    ase.io.write(tmp_path / "traj.extxyz", frames, format="extxyz")
    crystals = list(read_structures(tmp_path / "traj.extxyz"))
    assert [c.id for c in crystals] == ["traj#0", "custom-id", "traj#2"]
    assert crystals[2].source.endswith("traj.extxyz#2")


def test_objects_and_dicts():
    crystal = rocksalt()
    same_geometry(from_ase(crystal.to_ase()), crystal)
    same_geometry(from_pymatgen(crystal.to_pymatgen()), crystal)
    s = Structure(Lattice.cubic(4.2), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert to_crystal(s).formula == "MgO"
    jarvis = {"lattice_mat": crystal.lattice.tolist(), "coords": crystal.frac_coords.tolist(),
              "elements": crystal.species, "cartesian": False}
    same_geometry(from_jarvis_atoms(jarvis), crystal)
    same_geometry(from_record({"jid": "JVASP-1", "atoms": jarvis}, source="x"), crystal)
    rec = {"mp_id": "mp-1", "lattice": crystal.lattice.tolist(), "species": crystal.species,
           "cart_coords": crystal.positions.tolist()}
    got = from_record(rec, source="x")
    same_geometry(got, crystal)
    assert got.id == "mp-1"


def test_json_and_jsonl_files(tmp_path):
    crystal = rocksalt()
    rec = crystal.to_record()
    (tmp_path / "one.json").write_text(json.dumps(rec))
    (tmp_path / "many.jsonl").write_text("\n".join(json.dumps({**rec, "id": f"n{k}"})
                                                   for k in range(3)))
    assert read_structure(tmp_path / "one.json").id == "NaCl"
    assert [c.id for c in read_structures(tmp_path / "many.jsonl")] == ["n0", "n1", "n2"]


def test_crystal_properties():
    c = rocksalt()
    assert c.n_atoms == 8 and c.formula == "Na4Cl4"
    assert c.volume == pytest.approx(5.64**3)
    assert c.fingerprint() == rocksalt().fingerprint() != triclinic().fingerprint()


# --- bad input: every case gives one StructureError line naming the input -------------------

POSCAR_TEMPLATE = "x\n1.0\n{lat}\n{species}\n{counts}\nDirect\n{coords}\n"


def write_poscar(path, lattice="4 0 0\n0 4 0\n0 0 4", species="Na Cl", counts="1 1",
                 coords="0 0 0\n0.5 0.5 0.5"):
    path.write_text(POSCAR_TEMPLATE.format(lat=lattice, species=species, counts=counts,
                                           coords=coords))
    return path


def write(path, text):
    path.write_text(text)
    return path


BAD_CASES = {
    "missing": (lambda p: p / "absent.cif", "no such file"),
    "empty": (lambda p: write(p / "empty.cif", ""), "file is empty"),
    "unreadable": (lambda p: write(p / "junk.cif", "this is not a cif\n"),
                   "not a valid CIF file"),
    "unknown_element": (lambda p: write_poscar(p / "POSCAR_x", species="Na Xx"),
                        "unknown element 'Xx'"),
    "singular_lattice": (lambda p: write_poscar(p / "POSCAR_s", lattice="4 0 0\n0 4 0\n0 0 0"),
                         "singular lattice"),
    "degenerate_lattice": (lambda p: write_poscar(p / "POSCAR_d",
                                                  lattice="4 0 0\n0 4 0\n4 4 0.0001"),
                           "degenerate lattice"),
    "nan_coordinates": (lambda p: write_poscar(p / "POSCAR_n", coords="0 0 0\nnan 0.5 0.5"),
                        "NaN or infinite coordinates"),
    "too_close": (lambda p: write_poscar(p / "POSCAR_c", coords="0 0 0\n0.05 0 0"),
                  "closer than 0.5 Å"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_gives_one_line_error(tmp_path, case):
    make, expected = BAD_CASES[case]
    path = make(tmp_path)
    with pytest.raises(StructureError) as info:
        list(read_structures(path))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path)) and expected in message


def test_no_atoms_and_no_lattice():
    with pytest.raises(StructureError, match="rec: structure has no atoms"):
        from_record({"lattice": np.eye(3).tolist(), "species": [], "frac_coords": []},
                    source="rec")
    with pytest.raises(StructureError, match="no lattice"):
        from_ase(ase.Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.7]]), source="mol")
    with pytest.raises(StructureError, match="unknown element 'Qq'"):
        from_arrays(np.eye(3) * 4, ["Qq"], positions=[[0, 0, 0]])


def test_iter_inputs_continues_past_bad_frames(tmp_path):
    good = rocksalt().to_ase()
    bad = rocksalt().to_ase()
    bad.positions[1] = bad.positions[0] + 0.1
    ase.io.write(tmp_path / "mix.extxyz", [good, bad, good], format="extxyz")
    (tmp_path / "empty.cif").write_text("")
    items = list(iter_inputs([tmp_path]))
    failures = [i for i in items if isinstance(i, StructureFailure)]
    assert len(items) == 4 and len(failures) == 2
    assert {f.source.split("/")[-1] for f in failures} == {"empty.cif", "mix.extxyz#1"}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_through_the_command(tmp_path, case):
    from typer.testing import CliRunner

    from crystaldos.cli import app

    make, expected = BAD_CASES[case]
    path = make(tmp_path)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}: " in result.output and expected in result.output
    assert "Traceback" not in result.output


def test_no_atoms_file_through_the_command(tmp_path):
    from typer.testing import CliRunner

    from crystaldos.cli import app

    path = tmp_path / "none.json"
    path.write_text(json.dumps({"id": "x", "lattice": np.eye(3).tolist(), "species": [],
                                "frac_coords": []}))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and f"{path}: structure has no atoms" in result.output
