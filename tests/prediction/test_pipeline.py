"""predict and screen are one pipeline: the same rows, columns and failures."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crystaldos.cli import app
from crystaldos.models.saving import load_model
from crystaldos.prediction import BASE_COLUMNS, PredictionPipeline
from crystaldos.prediction.schema import Failure
from crystaldos.screening import read_table
from tests.prediction.test_predict import mixed_inputs

runner = CliRunner()


def test_predict_and_screen_write_identical_rows(tiny_model_dir: Path, tmp_path: Path) -> None:
    inputs = mixed_inputs(tmp_path / "in")
    pred, failed, run = tmp_path / "p.parquet", tmp_path / "f.csv", tmp_path / "run"
    common = ["-m", str(tiny_model_dir), "-q", "--temperatures", "100,300"]
    a = runner.invoke(app, ["predict", *inputs, "-o", str(pred), "--properties",
                            "--failures", str(failed), *common])
    b = runner.invoke(app, ["screen", *inputs, "-o", str(run), *common])
    assert a.exit_code == b.exit_code == 1, (a.output, b.output)  # two bad inputs in both
    predicted = pd.read_parquet(pred).sort_values("key").reset_index(drop=True)
    screened = read_table(run).to_pandas().sort_values("key").reset_index(drop=True)
    assert list(predicted.columns) == list(screened.columns)
    assert list(predicted.columns[:len(BASE_COLUMNS)]) == list(BASE_COLUMNS)
    assert "cv_J_per_molK_300K" in predicted.columns and len(predicted) == 4
    dos_a, dos_b = np.stack(predicted.pop("dos")), np.stack(screened.pop("dos"))
    np.testing.assert_array_equal(dos_a, dos_b)
    pd.testing.assert_frame_equal(predicted, screened)
    fails_a = pd.read_csv(failed, keep_default_na=False).sort_values("key")
    fails_b = read_table(run, "failures").to_pandas().sort_values("key")
    assert fails_a.to_dict("records") == fails_b.to_dict("records")
    assert {Path(k).name for k in fails_a["key"]} == {"empty.cif", "bad.json"}


def test_pipeline_rows_carry_spectrum_and_failures_in_place(tiny_model_dir: Path,
                                                            tmp_path: Path) -> None:
    bundle = load_model(tiny_model_dir)
    items = list(PredictionPipeline(bundle).run(mixed_inputs(tmp_path / "in")))
    rows = [i for i in items if not isinstance(i, Failure)]
    assert len(rows) == 4 and len(items) == 6
    assert all(r.spectrum.grid == bundle.grid and r.dos.max() == pytest.approx(1.0)
               for r in rows)
    assert rows[0].values["formula"] == "NaCl" and rows[0].values["cell_formula"] == "Na4Cl4"
    again = list(PredictionPipeline(bundle).run(mixed_inputs(tmp_path / "in"),
                                                skip={rows[0].key}))
    assert rows[0].key not in {i.key for i in again} and len(again) == 5


def test_gap_trees_named_by_the_card_fill_the_head_columns(tiny_model_dir: Path,
                                                           tmp_path: Path) -> None:
    import json
    import shutil

    from crystaldos.prediction.band_gap import GapTrees
    from crystaldos.structures.descriptors import descriptor_matrix
    from tests.conftest import toy_crystals
    from tests.prediction.test_band_gap import metals_and_salts

    pytest.importorskip("sklearn")
    crystals = metals_and_salts(12)
    x = descriptor_matrix(crystals)
    metal = x[:, 0] < 1.5  # toy labels: low mean electronegativity
    trees = GapTrees.fit(x, metal, np.where(metal, 0.0, 3.0), {"max_iter": 10})
    trees.save(tmp_path / "trees")
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    card = json.loads((model / "card.json").read_text())
    (model / "card.json").write_text(json.dumps({**card, "gap_trees": str(tmp_path / "trees")}))
    pipeline = PredictionPipeline(load_model(model))
    assert {"metal_probability", "band_gap_direct_eV"} <= set(pipeline.columns)
    crystal = toy_crystals(1)[0]
    rows = [r for r in pipeline.run([crystal]) if not isinstance(r, Failure)]
    assert rows[0].values["metal_probability"] == trees.head_values(crystal)["metal_probability"]
    # other trees make other rows: a resumed run must notice
    assert pipeline.description()["gap_trees_sha256"] == trees.digest()
    other = GapTrees.fit(x, ~metal, np.where(metal, 3.0, 0.0), {"max_iter": 10})
    assert other.digest() != trees.digest()
    # trees with gap intervals add their columns to the rows
    trees.with_intervals(x, np.where(metal, 0.0, 3.0), folds=3).save(tmp_path / "trees")
    pipeline = PredictionPipeline(load_model(model))
    assert {"band_gap_low95_eV", "band_gap_high68_eV"} <= set(pipeline.columns)
    values = next(r for r in pipeline.run([crystal]) if not isinstance(r, Failure)).values
    assert values["band_gap_low95_eV"] <= values["band_gap_direct_eV"] <= \
        values["band_gap_high95_eV"]


def test_a_structure_the_gap_trees_refuse_is_a_failure_row(tiny_model_dir: Path,
                                                           tmp_path: Path, monkeypatch) -> None:
    import json
    import shutil

    from crystaldos.errors import StructureError
    from crystaldos.prediction.band_gap import GapTrees
    from crystaldos.structures.descriptors import descriptor_matrix
    from tests.conftest import toy_crystals
    from tests.prediction.test_band_gap import metals_and_salts

    pytest.importorskip("sklearn")
    crystals = metals_and_salts(12)
    x = descriptor_matrix(crystals)
    metal = x[:, 0] < 1.5
    GapTrees.fit(x, metal, np.where(metal, 0.0, 3.0), {"max_iter": 10}).save(tmp_path / "trees")
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    card = json.loads((model / "card.json").read_text())
    (model / "card.json").write_text(json.dumps({**card, "gap_trees": str(tmp_path / "trees")}))
    first, second = toy_crystals(2)

    def refuse_first(self, crystal):  # as gap-trees-uip does when CHGNet refuses a cell
        if crystal.id == first.id:
            raise StructureError(crystal.source, "chgnet cannot compute it: isolated atoms")
        return {"band_gap_direct_eV": 1.0, "metal_probability": 0.1}

    monkeypatch.setattr(GapTrees, "head_values", refuse_first)
    out = list(PredictionPipeline(load_model(model)).run([first, second]))
    failures = [r for r in out if isinstance(r, Failure)]
    assert len(out) == 2 and len(failures) == 1  # the other structure still gets its row
    assert failures[0].reason == "chgnet cannot compute it: isolated atoms"
