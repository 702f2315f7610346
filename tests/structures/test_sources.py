import json

from crystaldos.structures.sources import count_structures, iter_inputs, source_file
from tests.conftest import rocksalt, silicon_primitive, triclinic


def write_inputs(folder):
    from ase.io import write

    folder.mkdir()
    write(folder / "traj.extxyz", [triclinic().to_ase(), rocksalt().to_ase()], format="extxyz")
    lines = [json.dumps(silicon_primitive().to_record()), "{broken", json.dumps(
        rocksalt().to_record())]
    (folder / "set.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "list.json").write_text(json.dumps([triclinic().to_record()] * 3))
    rocksalt().to_ase().write(folder / "one.cif")
    return folder


def test_count_and_keys_round_trip(tmp_path) -> None:
    folder = write_inputs(tmp_path / "in")
    assert count_structures([folder]) == 2 + 3 + 3 + 1
    items = list(iter_inputs([folder]))
    assert len(items) == 9
    bad = [i for i in items if not hasattr(i, "lattice")]
    assert len(bad) == 1 and bad[0].source.endswith("set.jsonl:2")
    assert "invalid JSON" in bad[0].reason
    keys = [item.source for item in items]
    assert len(set(keys)) == len(keys)  # one key per input item
    assert {source_file(k) for k in keys} == {str(p) for p in folder.iterdir()}
