import json
from pathlib import Path

import numpy as np
import pytest
import torch

from crystaldos.models.electronic_heads import (
    ElectronicHeadLoss,
    decode,
    head_targets,
    head_values,
    split_outputs,
)
from crystaldos.spectra.grid import EDOS_300
from tests.conftest import toy_crystals


def test_targets_put_metals_at_zero_gap() -> None:
    assert head_targets({"band_gap": 1.5, "is_metal": False}).tolist() == [1.5, 0.0]
    assert head_targets({"band_gap": 0.3, "is_metal": True}).tolist() == [0.0, 1.0]


def test_decode_is_softplus_and_sigmoid() -> None:
    gap, p = decode(np.array([[0.0, 0.0], [10.0, -10.0]]))
    assert gap == pytest.approx([np.log(2.0), 10.0], abs=1e-4)
    assert p == pytest.approx([0.5, 0.0], abs=1e-4)
    members = head_values(np.array([[10.0, 10.0], [12.0, -10.0]]))  # two ensemble members
    assert members["band_gap_direct_eV"] == pytest.approx(11.0, abs=1e-3)
    assert members["metal_probability"] == pytest.approx(0.5, abs=1e-3)
    assert members["metal_probability_std"] == pytest.approx(0.5, abs=1e-3)
    assert members["band_gap_direct_eV_std"] == pytest.approx(1.0, abs=1e-3)
    assert "metal_probability_std" not in head_values(np.array([0.0, 0.0]))


def test_split_outputs_keeps_a_plain_spectrum_whole() -> None:
    values = np.arange(12.0).reshape(2, 6)
    assert split_outputs(values, 6)[1] is None
    dos, heads = split_outputs(values, 4)
    assert dos.shape == (2, 4) and heads.tolist() == [[4.0, 5.0], [10.0, 11.0]]


def test_loss_and_metrics_see_gap_and_class() -> None:
    target = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    right = torch.tensor([[2.0 + np.log(1 - np.exp(-2.0)), -20.0], [-20.0, 20.0]])
    wrong = torch.tensor([[-20.0, 20.0], [3.0, -20.0]])
    loss = ElectronicHeadLoss()
    assert loss(right, target) < 1e-3 < loss(wrong, target)
    m = loss.metrics(right, target)
    assert m["metal_accuracy"] == 1.0 and m["gap_mae"] < 1e-3
    assert loss.metrics(wrong, target)["metal_accuracy"] == 0.0


@pytest.fixture(scope="module")
def electronic_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 toy crystals with a Gaussian eDOS and a gap that follows the cell size."""
    path = tmp_path_factory.mktemp("edos") / "edos.jsonl"
    x = EDOS_300.points
    with path.open("w") as fh:
        for k, crystal in enumerate(toy_crystals(24)):
            size = crystal.volume ** (1 / 3)
            metal = k % 3 == 0
            gap = 0.0 if metal else float(size - 2.0)
            rec = crystal.to_record()
            rec.update({"dos": np.exp(-((x + 1.0 + 0.1 * size) ** 2)).tolist(),
                        "grid": EDOS_300.to_dict(), "normalization": "none",
                        "energy_zero": "fermi", "split": "train" if k < 18 else "val",
                        "meta": {"band_gap": gap, "is_metal": metal}})
            fh.write(json.dumps(rec) + "\n")
    return path


def test_training_with_heads_writes_their_validation_and_rows(electronic_set: Path,
                                                               tmp_path: Path) -> None:
    from crystaldos.models.saving import load_model
    from crystaldos.prediction.engine import predict_structures
    from crystaldos.training.config import TrainConfig
    from crystaldos.training.trainer import train

    out = train(TrainConfig(dataset=str(electronic_set), output=str(tmp_path / "m"),
                            preset="tiny", epochs=2, progress=False, accelerator="cpu",
                            electronic_heads=1.0,
                            model={"composition_features": True, "charge_balance": True}))
    card = json.loads((out / "card.json").read_text())
    heads = card["validation"]["heads"]
    assert heads["n"] == 6 and heads["n_metals"] == 2
    assert 0.0 <= heads["metal_accuracy"] <= 1.0 and heads["gap_mae_eV"] >= 0.0
    assert heads["composition_rule_accuracy"] == pytest.approx(4 / 6)  # every toy is a salt
    assert "val_gap_mae" in (out / "logs" / "metrics.csv").read_text()
    bundle = load_model(out)
    rows = list(predict_structures(bundle, toy_crystals(3), properties=True))
    assert all(r.dos.shape == (300,) for r in rows)
    for row in rows:
        assert 0.0 <= row.values["metal_probability"] <= 1.0
        assert row.values["band_gap_direct_eV"] >= 0.0
        assert "band_gap_eV" in row.values  # the DOS-derived gap stays beside it
        # every toy is a charge-balanced salt: a metal call is flagged, a gapped one is not
        flagged = "charge rule says gapped" in row.values["note"]
        assert flagged == (row.values["metal_probability"] > 0.5)


def test_metallicity_note_flags_only_disagreement_with_the_charge_rule() -> None:
    from crystaldos.models.electronic_heads import metallicity_note

    assert metallicity_note(["Na", "Cl"], 0.1) is None
    assert metallicity_note(["Ti", "N"], 0.9) is None  # N 3- leaves Ti's electrons: a metal
    note = metallicity_note(["Ba", "Ba", "Ba", "Ba", "Na", "Ge"], 0.02)
    assert "gapped (p = 0.02)" in note and "charge rule says a metal" in note


def test_heads_need_an_electronic_set_with_labels(electronic_set: Path, toy_dataset_file: Path,
                                                  tmp_path: Path) -> None:
    from crystaldos.training.config import ConfigError, TrainConfig
    from crystaldos.training.trainer import train

    with pytest.raises(ConfigError, match="needs an electronic data set"):
        train(TrainConfig(dataset=str(toy_dataset_file), output=str(tmp_path / "p"),
                          preset="tiny", epochs=1, progress=False, electronic_heads=1.0))
    unlabelled = tmp_path / "bare.jsonl"
    lines = electronic_set.read_text().splitlines()
    first = json.loads(lines[0])
    first.pop("meta")
    unlabelled.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    with pytest.raises(ConfigError, match="1 records have no band_gap and is_metal"):
        train(TrainConfig(dataset=str(unlabelled), output=str(tmp_path / "q"), preset="tiny",
                          epochs=1, progress=False, electronic_heads=1.0))


def test_composition_features_carry_the_metal_rule() -> None:
    from crystaldos.models.alignn import metal_elements

    flags = metal_elements()
    assert flags[[3, 11, 26, 29]].tolist() == [1.0, 1.0, 1.0, 1.0]  # Li Na Fe Cu
    assert flags[[1, 8, 14, 32, 33, 52]].tolist() == [0.0] * 6  # H O and metalloids Si Ge As Te


def test_charge_balance_flags_match_the_rule_per_graph_of_a_batch() -> None:
    from torch_geometric.data import Batch

    from crystaldos.evaluation.baselines import charge_balanced
    from crystaldos.graphs.crystal_graph import build_graph
    from crystaldos.models.alignn import ALIGNNDOS, charge_balance_flags
    from crystaldos.structures.readers import from_arrays

    lattice = 4.0 * np.eye(3)
    cells = [(["Na", "Cl"], True), (["Ti", "N"], False), (["Si", "Si"], True),
             (["Ba", "Ba", "Na", "Ge"], False)]
    frac = np.array([[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0, 0], [0, 0.5, 0]])
    crystals = [from_arrays(lattice, species, frac_coords=frac[:len(species)], id=str(k))
                for k, (species, _) in enumerate(cells)]
    assert [charge_balanced(c.species) for c in crystals] == [b for _, b in cells]
    batch = Batch.from_data_list([build_graph(c) for c in crystals])
    flags = charge_balance_flags(batch.z, batch.batch, len(cells))
    assert flags[:, 0].tolist() == [float(b) for _, b in cells]
    with pytest.raises(ValueError, match="composition_features"):
        ALIGNNDOS(8, 10, charge_balance=True)



def test_metal_prior_shifts_the_metal_logit_by_the_charge_rule() -> None:
    from torch_geometric.data import Batch

    from crystaldos.graphs.crystal_graph import build_graph
    from crystaldos.models.alignn import ALIGNNDOS
    from crystaldos.structures.readers import from_arrays

    frac = np.array([[0, 0, 0], [0.5, 0.5, 0.5]])
    cells = [["Na", "Cl"], ["Cu", "Zn"], ["Ti", "N"]]  # rule: gapped, metal, metal
    graphs = [build_graph(from_arrays(4.0 * np.eye(3), s, frac_coords=frac, id=str(k)))
              for k, s in enumerate(cells)]
    batch = Batch.from_data_list(graphs)
    torch.manual_seed(0)
    model = ALIGNNDOS(batch.x.shape[1], 10, hidden=16, embedding=8, alignn_layers=1,
                      gcn_layers=1, n_scalars=2, composition_features=True,
                      charge_balance=True, metal_prior=2.0).eval()
    with torch.no_grad():
        with_prior = model(batch)
        model.metal_prior = 0.0
        without = model(batch)
    shift = (with_prior - without)[:, 10:]
    assert shift[:, 0].abs().max() == 0.0  # the gap is untouched
    assert shift[:, 1].tolist() == [-2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="metal_prior needs charge_balance"):
        ALIGNNDOS(8, 10, n_scalars=2, composition_features=True, metal_prior=1.0)
