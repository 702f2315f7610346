import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data

from crystaldos.errors import CrystalDosError
from crystaldos.models.saving import load_model
from crystaldos.spectra.grid import PHDOS_51, PHDOS_66, PHDOS_221, Grid
from crystaldos.training.config import ConfigError, TrainConfig
from crystaldos.training.joint import joint_loss, shape_in_window, window_offset
from crystaldos.training.thermal import ThermalLoss
from crystaldos.training.trainer import train
from tests.conftest import toy_crystals


def test_windows_of_the_universal_grid() -> None:
    assert window_offset(PHDOS_66, PHDOS_221) == 0
    assert window_offset(PHDOS_51, PHDOS_221) == 15
    with pytest.raises(CrystalDosError, match="not a window"):
        window_offset(Grid(0.0, 10.0, 10, "cm^-1", "phonon"), PHDOS_221)
    with pytest.raises(CrystalDosError, match="does not lie on the points"):
        window_offset(Grid(5.0, 20.0, 10, "cm^-1", "phonon"), PHDOS_221)


def test_joint_loss_compares_shapes_in_each_window() -> None:
    n = 10
    shape = torch.linspace(0.1, 1.0, 4)
    pred = torch.zeros(2, n)
    pred[0, 2:6] = 7.0 * shape  # any scale: max-normalized in its window it is the target
    pred[1, :] = 3.0  # flat: unit area over 10 bins of step 2 -> 0.05
    pred[0, 8] = 50.0  # outside the first window: ignored
    y = torch.zeros(2, n)
    y[0, 2:6] = shape / shape.max()
    y[1, :] = 0.05
    mask = torch.zeros(2, n)
    mask[0, 2:6] = 1.0
    mask[1, :] = 1.0
    batch = Batch.from_data_list([
        Data(y=y[0:1], mask=mask[0:1], task=torch.tensor([0]), weight=torch.tensor([1.0])),
        Data(y=y[1:2], mask=mask[1:2], task=torch.tensor([1]), weight=torch.tensor([2.0]))])
    assert joint_loss(pred, batch, step=2.0).item() == pytest.approx(0.0, abs=1e-6)
    shaped = shape_in_window(pred, batch.mask, batch.task, 2.0)
    assert shaped[0].max() == pytest.approx(1.0) and shaped[0, 8] == 0
    wrong = pred.clone()
    wrong[1] = torch.linspace(0.0, 1.0, n)
    assert joint_loss(wrong, batch, step=2.0).item() > 0.01
    # the Wasserstein-1 term: nothing for the right shapes, more the further weight moves
    assert joint_loss(pred, batch, step=2.0, w1_weight=5.0).item() == pytest.approx(0, abs=1e-5)
    assert joint_loss(wrong, batch, 2.0, w1_weight=1.0).item() > \
        joint_loss(wrong, batch, 2.0).item()
    # the Cv/S term sees each prediction inside its window only, at any scale
    thermal = ThermalLoss(Grid(10.0, 50.0, n, "cm^-1", "phonon"))
    assert joint_loss(pred, batch, 2.0, thermal=thermal, thermal_weight=3.0).item() == \
        pytest.approx(0, abs=1e-5)
    assert joint_loss(wrong, batch, 2.0, thermal=thermal, thermal_weight=1.0).item() > \
        joint_loss(wrong, batch, 2.0).item()


@pytest.fixture(scope="module")
def second_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Toy crystals with max-normalized spectra on the phdos66 grid (another data set)."""
    path = tmp_path_factory.mktemp("joint") / "other.jsonl"
    with path.open("w") as fh:
        for k, crystal in enumerate(toy_crystals(20, seed=3)):
            centre = 100 + 40 * k % 600
            dos = np.exp(-((PHDOS_66.points - centre) / 60.0) ** 2)
            rec = crystal.to_record()
            rec.update({"id": f"other-{k}", "dos": (dos / dos.max()).tolist(),
                        "grid": PHDOS_66.to_dict(), "normalization": "max",
                        "split": "train" if k < 15 else "val"})
            fh.write(json.dumps(rec) + "\n")
    return path


def test_joint_training_reports_each_set_on_its_own_grid(toy_dataset_file: Path,
                                                         second_set: Path,
                                                         tmp_path: Path) -> None:
    config = TrainConfig.from_dict({
        "datasets": [{"name": str(toy_dataset_file), "weight": 1.0},
                     {"name": str(second_set), "weight": 0.5}],
        "output": str(tmp_path / "joint"), "preset": "tiny", "epochs": 2, "loss": "mae",
        "w1_weight": 0.5, "thermal_weight": 0.5, "progress": False, "accelerator": "cpu"})
    bundle = load_model(train(config))
    assert bundle.grid == PHDOS_221 and bundle.normalization == "area"
    by_set = bundle.card["validation"]["by_dataset"]
    assert set(by_set) == {str(toy_dataset_file), str(second_set)}
    for metrics in by_set.values():
        assert {"model", "mean_spectrum", "composition_knn"} <= set(metrics)
    assert bundle.card["training"]["n_train"] == 24 + 15
    assert (tmp_path / "joint" / "splits-other.jsonl.json").is_file()
    # trained on from its own weights, heads included (same grid)
    config.output, config.init_from, config.epochs = str(tmp_path / "more"), str(tmp_path /
                                                                              "joint"), 1
    again = load_model(train(config))
    assert again.card["training"]["init_from"]["heads_copied"] is True
    assert again.card["training"]["config"]["w1_weight"] == 0.5


def test_joint_config_is_checked() -> None:
    with pytest.raises(ConfigError, match="needs a name"):
        TrainConfig.from_dict({"datasets": [{"weight": 1}]})
