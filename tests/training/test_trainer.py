import csv
import json
from pathlib import Path

import pytest
import yaml

from crystaldos.models.saving import load_model
from crystaldos.training.config import ConfigError, TrainConfig
from crystaldos.training.trainer import resolve_settings, train


def test_tiny_training_writes_model_logs_and_checkpoints(tiny_model_dir: Path) -> None:
    assert (tiny_model_dir / "weights.pt").exists()
    assert (tiny_model_dir / "checkpoints" / "best.ckpt").exists()
    assert (tiny_model_dir / "checkpoints" / "last.ckpt").exists()
    assert "val_mae" in (tiny_model_dir / "logs" / "metrics.csv").read_text()
    card = json.loads((tiny_model_dir / "card.json").read_text())
    assert card["training"]["epochs_run"] >= 1 and card["aliases"] == ["toy"]


def test_resume_continues_from_a_checkpoint(toy_dataset_file: Path, tmp_path: Path) -> None:
    common = {"dataset": str(toy_dataset_file), "preset": "tiny", "progress": False,
              "accelerator": "cpu", "scheduler": "none"}
    first = train(TrainConfig(output=str(tmp_path / "first"), epochs=2, **common))
    out = train(TrainConfig(output=str(tmp_path / "resumed"), epochs=4,
                            resume=str(first / "checkpoints" / "last.ckpt"), **common))
    rows = (out / "logs" / "metrics.csv").read_text().splitlines()[1:]
    epochs = {int(r.split(",")[0]) for r in rows}
    assert epochs == {2, 3}  # epochs 0-1 came from the checkpoint


def test_resume_in_the_same_folder_keeps_the_loss_history(toy_dataset_file: Path,
                                                          tmp_path: Path) -> None:
    common = {"dataset": str(toy_dataset_file), "preset": "tiny", "progress": False,
              "accelerator": "cpu", "scheduler": "none", "output": str(tmp_path / "run")}
    out = train(TrainConfig(epochs=2, **common))
    out = train(TrainConfig(epochs=4, resume=str(out / "checkpoints" / "last.ckpt"), **common))
    with (out / "logs" / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted({int(r["epoch"]) for r in rows}) == [0, 1, 2, 3]
    assert any(r.get("val_mae") for r in rows if r["epoch"] == "0")
    assert not (out / "logs" / "metrics-before-resume.csv").exists()


def test_ae_alignn_reports_reconstruction_and_end_to_end(toy_dataset_file: Path,
                                                         tmp_path: Path) -> None:
    config = TrainConfig.from_dict({
        "dataset": str(toy_dataset_file), "output": str(tmp_path / "ae"), "preset": "tiny",
        "epochs": 2, "progress": False, "accelerator": "cpu",
        "autoencoder": {"latent": 8, "hidden": [32], "epochs": 5}})
    out = train(config)
    bundle = load_model(out)
    assert bundle.card["model_class"] == "AELatentALIGNN"
    val = bundle.card["validation"]
    assert {"recon_mae_train", "recon_mae_val"} <= set(val["autoencoder"])
    assert 0 < val["model"]["mae"] < 1


def test_yaml_config_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"dataset": "mp-phonon", "epochs": 7, "model": {"hidden": 32}}))
    cfg = TrainConfig.from_yaml(path, epochs=9, lr=None)
    assert cfg.epochs == 9 and cfg.model == {"hidden": 32}
    graph, model, hp = resolve_settings(cfg, 51)
    assert model["hidden"] == 32 and model["n_out"] == 51 and model["atom_features"] == 92
    assert graph.three_body_neighbors == 6 and hp["loss"] == "mae"


def test_bad_configs_are_named(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("epochz: 3\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: unknown setting\(s\) epochz"):
        TrainConfig.from_yaml(path)
    path.write_text("[1, 2]\n")
    with pytest.raises(ConfigError, match="mapping"):
        TrainConfig.from_yaml(path)
    with pytest.raises(ConfigError, match="no such config"):
        TrainConfig.from_yaml(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not a known data set"):
        train(TrainConfig(dataset=str(tmp_path / "nothing.txt"), output=str(tmp_path / "o")))


def test_requested_normalization_converts_the_file_values(toy_dataset_file: Path) -> None:
    from crystaldos.datasets.jsonl import load_jsonl
    from crystaldos.training.trainer import dataset_targets, load_training_dataset

    dataset = load_training_dataset(TrainConfig(dataset=str(toy_dataset_file),
                                                normalization="area"))
    assert dataset.normalization == "max"  # what the file declares, not what training wants
    targets = dataset_targets(dataset, "area")
    step = dataset.grid.step
    assert all(abs(v.sum() * step - 1) < 1e-4 for v in targets.values())
    assert load_jsonl(toy_dataset_file).normalization == "max"


def test_per_cell_spectra_convert_to_per_valence_electron() -> None:
    """A DOS in states/eV per cell becomes states/eV per valence electron (NaCl: 8 per cell in
    the package's table, Na 1 + Cl 7)."""
    import numpy as np

    from crystaldos.datasets.base import DOSDataset, DOSRecord
    from crystaldos.spectra.grid import EDOS_300
    from crystaldos.training.trainer import dataset_targets
    from tests.conftest import rocksalt

    crystal = rocksalt()  # Na4Cl4: 32 valence electrons
    dos = np.full(EDOS_300.count, 3.2)
    dataset = DOSDataset("cells", EDOS_300, "none", [DOSRecord("nacl", crystal, dos, "train")])
    targets = dataset_targets(dataset, "valence")
    assert targets["nacl"] == pytest.approx(np.full(EDOS_300.count, 0.1))


def test_paper_preset_sets_its_target_normalization() -> None:
    from crystaldos.models.presets import get_preset

    assert get_preset("alignn-edos-paper")["normalization"] == "valence"
    wide = get_preset("fast-wide")["model"]
    assert (wide["alignn_layers"], wide["gcn_layers"], wide["head_hidden"]) == (3, 3, [128])
    assert get_preset("fast")["model"]["alignn_layers"] == 2


def test_xtal2dos_preset_trains_saves_and_predicts(toy_dataset_file: Path,
                                                    tmp_path: Path) -> None:
    import numpy as np

    from crystaldos.prediction.engine import predict_structures
    from tests.conftest import rocksalt

    out = train(TrainConfig(dataset=str(toy_dataset_file), output=str(tmp_path / "x"),
                            preset="xtal2dos-tiny", epochs=2, progress=False,
                            accelerator="cpu"))
    bundle = load_model(out)
    card = bundle.card
    assert card["model_class"] == "Xtal2DoS" and card["normalization"] == "sum"
    assert card["init_args"]["decoder"] == "transformer"
    protocol = card["validation"]["xtal2dos_protocol"]
    assert set(protocol) == {"model", "mean_spectrum", "composition_knn"}
    assert 0 <= protocol["model"]["mae"] < 1 and protocol["model"]["wd"] >= 0
    (pred,) = predict_structures(bundle, [rocksalt()])
    assert pred.dos.shape == (51,) and np.isclose(pred.dos.sum(), 1.0, atol=1e-5)
    with pytest.raises(ConfigError, match="ALIGNN presets only"):
        train(TrainConfig.from_dict({"dataset": str(toy_dataset_file), "preset": "xtal2dos-tiny",
                                     "output": str(tmp_path / "ae"), "epochs": 1,
                                     "progress": False, "autoencoder": {"latent": 8}}))


def test_init_from_copies_the_encoder_and_leaves_the_head(tiny_model_dir: Path,
                                                          toy_dataset_file: Path) -> None:
    import torch

    from crystaldos.graphs.crystal_graph import GraphSettings
    from crystaldos.models.presets import get_preset
    from crystaldos.models.saving import build_model, load_model
    from crystaldos.training.config import ConfigError
    from crystaldos.training.trainer import initialize_encoder, resolve_settings

    config = TrainConfig(dataset=str(toy_dataset_file), preset="tiny")
    settings, args, _ = resolve_settings(config, 51)
    model = build_model(get_preset("tiny")["model_class"], {**args, "n_scalars": 2})
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = initialize_encoder(model, str(tiny_model_dir), settings)
    source = load_model(tiny_model_dir).model.state_dict()
    after = model.state_dict()
    assert report["tensors_copied"] == len([k for k in source if not k.startswith("head.")])
    assert torch.equal(after["atom_embedding.0.weight"], source["atom_embedding.0.weight"])
    assert all(torch.equal(after[k], before[k]) for k in after if k.startswith(("head.",
                                                                               "scalar_head.")))
    assert report["heads_copied"] is False
    # on the source's own grid training goes on: the output head is copied as well
    same = build_model(get_preset("tiny")["model_class"], args)
    report = initialize_encoder(same, str(tiny_model_dir), settings,
                                load_model(tiny_model_dir).grid)
    assert report["heads_copied"] and report["tensors_copied"] == len(source)
    assert all(torch.equal(same.state_dict()[k], source[k]) for k in source)
    other = GraphSettings.from_dict({**settings.to_dict(), "cutoff": settings.cutoff + 1})
    with pytest.raises(ConfigError, match="graph settings differ"):
        initialize_encoder(model, str(tiny_model_dir), other)
    with pytest.raises(ConfigError, match="not a bundled model"):
        initialize_encoder(model, "no-such-model", settings)
