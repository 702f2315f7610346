import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from crystaldos.cli import app
from crystaldos.models.saving import load_model
from crystaldos.prediction.engine import predict_structures
from crystaldos.prediction.readers import read_predictions
from crystaldos.prediction.rescale import rescale_prediction
from crystaldos.prediction.schema import BASE_COLUMNS
from crystaldos.prediction.writers import open_writer
from crystaldos.spectra.grid import PHDOS_51
from tests.conftest import rocksalt, silicon_primitive, triclinic

runner = CliRunner()


def mixed_inputs(folder: Path) -> list[str]:
    """Two good CIF files, a multi-frame extxyz with ids, an empty file and a bad element."""
    folder.mkdir(parents=True, exist_ok=True)
    rocksalt().to_ase().write(folder / "nacl.cif")
    silicon_primitive().to_ase().write(folder / "si.vasp", format="vasp")
    frames = []
    for k, crystal in enumerate((triclinic(), rocksalt(6.0))):
        atoms = crystal.to_ase()
        atoms.info["id"] = f"frame-{k}"
        frames.append(atoms)
    from ase.io import write

    write(folder / "frames.extxyz", frames, format="extxyz")
    (folder / "empty.cif").write_text("")
    (folder / "bad.json").write_text(json.dumps({"lattice": np.eye(3).tolist(),
                                                 "species": ["Xx"], "frac_coords": [[0, 0, 0]]}))
    return [str(folder / n) for n in ("nacl.cif", "si.vasp", "frames.extxyz", "empty.cif",
                                      "bad.json")]


def test_predict_mixture_writes_good_and_names_bad(tiny_model_dir: Path, tmp_path: Path) -> None:
    inputs = mixed_inputs(tmp_path / "in")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["predict", "--model", str(tiny_model_dir), *inputs,
                                 "--output", str(out), "-q", "--batch-size", "2"])
    assert result.exit_code == 1
    assert "empty.cif" in result.output and "bad.json" in result.output
    assert "predicted 4 structures" in result.output and "2 skipped" in result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in lines] == ["nacl", "si", "frame-0", "frame-1"]
    for rec in lines:
        assert rec["grid"] == {"start": 0.0, "step": 20.0, "count": 51, "unit": "cm^-1",
                               "kind": "phonon"}
        assert rec["normalization"] == "max" and len(rec["dos"]) == 51


def test_predictions_equal_the_python_api(tiny_model_dir: Path, tmp_path: Path) -> None:
    inputs = mixed_inputs(tmp_path / "in")[:2]
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["predict", "-m", str(tiny_model_dir), *inputs, "-o", str(out),
                                 "-q"])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column("id").to_pylist() == ["nacl", "si"]
    meta = table.schema.metadata
    assert json.loads(meta[b"crystaldos.grid"])["count"] == 51
    bundle = load_model(tiny_model_dir)
    api = [p.dos for p in predict_structures(bundle, inputs)]
    np.testing.assert_allclose(np.array(table.column("dos").to_pylist()), np.array(api),
                               rtol=1e-6)


def test_csv_output_and_renormalization(tiny_model_dir: Path, tmp_path: Path) -> None:
    inputs = mixed_inputs(tmp_path / "in")[:1]
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["predict", "-m", str(tiny_model_dir), *inputs, "-o", str(out),
                                 "-q", "--normalization", "area"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)  # plain CSV: no comment lines, no options needed
    names = [*BASE_COLUMNS, "normalization", "grid_unit", "grid_start", "grid_step"]
    assert list(table.columns[:len(names)]) == names
    assert table.columns[len(names)] == "dos_0"
    row = table.iloc[0]
    assert row["id"] == "nacl" and row["normalization"] == "area" and row["formula"] == "NaCl"
    assert row["cell_formula"] == "Na4Cl4" and row["volume_A3"] == pytest.approx(5.64**3, rel=1e-6)
    values = row.iloc[len(names):].to_numpy(dtype=float)
    assert values.sum() * row["grid_step"] == pytest.approx(1.0, rel=1e-5)
    assert [p.id for p in read_predictions(out)] == ["nacl"]


def test_unknown_model_and_output_format_are_one_line_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["predict", "-m", "no-such-model", "x.cif", "-o", "o.jsonl"])
    assert result.exit_code != 0
    assert "no-such-model: not a bundled model" in str(result.exception or result.output)
    with pytest.raises(Exception, match=r"o\.txt: output must end in"):
        open_writer(tmp_path / "o.txt", {"id": "str"}, PHDOS_51, "max")


def test_rescale_refuses_absolute_scales() -> None:
    with pytest.raises(Exception, match="cannot convert"):
        rescale_prediction(np.ones(51), PHDOS_51, "max", "valence")
    np.testing.assert_allclose(rescale_prediction(np.arange(51.0), PHDOS_51, "max", "max"),
                               np.arange(51.0) / 50.0)  # "max" means a maximum of exactly 1


def test_bad_normalization_leaves_an_existing_output_untouched(tiny_model_dir: Path,
                                                                tmp_path: Path) -> None:
    inputs = mixed_inputs(tmp_path / "in")[:1]
    out = tmp_path / "out.jsonl"
    out.write_text("earlier results\n")
    result = runner.invoke(app, ["predict", "-m", str(tiny_model_dir), *inputs, "-o", str(out),
                                 "-q", "--normalization", "valence"])
    assert result.exit_code != 0
    assert "cannot convert predictions from 'max' to 'valence'" in str(result.exception)
    assert out.read_text() == "earlier results\n"


def test_predict_onto_another_grid_and_max_is_exactly_one(tiny_model_dir: Path,
                                                         tmp_path: Path) -> None:
    inputs = mixed_inputs(tmp_path / "in")[:2]
    own, moved = tmp_path / "own.jsonl", tmp_path / "moved.jsonl"
    for out, extra in ((own, []), (moved, ["--grid", "phdos66"])):
        result = runner.invoke(app, ["predict", "-m", str(tiny_model_dir), *inputs, "-o",
                                     str(out), "-q", *extra])
        assert result.exit_code == 0, result.output
    own_rows = list(read_predictions(own))
    moved_rows = list(read_predictions(moved))
    assert own_rows[0].spectrum.grid.count == 51 and moved_rows[0].spectrum.grid.count == 66
    for a, b in zip(own_rows, moved_rows, strict=True):
        assert a.dos.max() == pytest.approx(1.0) and b.dos.max() == pytest.approx(1.0)
        np.testing.assert_allclose(b.dos[15:], a.dos, rtol=1e-6)  # 0..1000 cm^-1 is shared
        assert not b.dos[:15].any()  # the model has nothing below 0 cm^-1
    result = runner.invoke(app, ["predict", "-m", str(tiny_model_dir), *inputs, "-o",
                                 str(tmp_path / "x.jsonl"), "--grid", "edos300"])
    assert "an electronic output grid" in str(result.exception)
