import json

import numpy as np
import pytest

from crystaldos.errors import StructureError
from crystaldos.structures.sources import count_structures, iter_inputs, structure_from_key
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
    for item in items:
        if item in bad:
            with pytest.raises(StructureError, match="invalid JSON"):
                structure_from_key(item.source)
            continue
        again = structure_from_key(item.source)
        assert again.source == item.source and np.allclose(again.positions, item.positions)
    with pytest.raises(StructureError, match="no structure with this key"):
        structure_from_key(str(folder / "set.jsonl:9"))
