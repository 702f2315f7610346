import json
from pathlib import Path

import numpy as np
import pytest
import torch

from crystaldos.graphs.crystal_graph import build_graph
from crystaldos.models.saving import ModelLoadError, load_model, read_card, save_model
from crystaldos.prediction.engine import predict_graphs
from tests.conftest import rocksalt, silicon_primitive, triclinic


def test_round_trip_gives_identical_predictions(tiny_model_dir: Path, tmp_path: Path) -> None:
    bundle = load_model(tiny_model_dir)
    graphs = [build_graph(c, bundle.graph_settings)
              for c in (rocksalt(), silicon_primitive(), triclinic())]
    before = predict_graphs(bundle.model, graphs)
    save_model(tmp_path / "copy", bundle.model, bundle.card)
    again = load_model(tmp_path / "copy")
    np.testing.assert_array_equal(before, predict_graphs(again.model, graphs))
    assert before.shape == (3, bundle.grid.count)


def test_card_records_preprocessing_and_metrics(tiny_model_dir: Path) -> None:
    card = read_card(tiny_model_dir)
    assert card["model_class"] == "ALIGNNDOS"
    assert card["graph"]["atom_features"] == "attr5"  # the tiny preset, not a package default
    assert card["grid"]["count"] == 51 and card["normalization"] == "max"
    assert set(card["validation"]) >= {"model", "mean_spectrum", "composition_knn"}
    assert card["training"]["n_train"] == 24 and card["training"]["n_val"] == 8
    assert (tiny_model_dir / "splits.json").exists()


def test_weights_load_with_weights_only(tiny_model_dir: Path) -> None:
    state = torch.load(tiny_model_dir / "weights.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())


def test_missing_directory_and_weights_are_named(tmp_path: Path, tiny_model_dir: Path) -> None:
    with pytest.raises(ModelLoadError, match="not a model directory"):
        load_model(tmp_path)
    (tmp_path / "card.json").write_text((tiny_model_dir / "card.json").read_text())
    with pytest.raises(ModelLoadError, match=r"no weights\.pt"):
        load_model(tmp_path)


def test_corrupt_weights_and_card_are_named(tmp_path: Path, tiny_model_dir: Path) -> None:
    (tmp_path / "card.json").write_text((tiny_model_dir / "card.json").read_text())
    (tmp_path / "weights.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelLoadError, match="cannot load weights"):
        load_model(tmp_path)
    (tmp_path / "card.json").write_text("{")
    with pytest.raises(ModelLoadError, match="unreadable model card"):
        load_model(tmp_path)


def test_changed_feature_table_is_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    card = json.loads((tiny_model_dir / "card.json").read_text())
    card["atom_features"]["digest"] = "0" * 16
    (tmp_path / "card.json").write_text(json.dumps(card))
    (tmp_path / "weights.pt").write_bytes((tiny_model_dir / "weights.pt").read_bytes())
    with pytest.raises(ModelLoadError, match="atom-feature table"):
        load_model(tmp_path)
