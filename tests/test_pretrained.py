"""The bundled models: present, small, loadable offline, and usable from the command line."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crystaldos.cli import app
from crystaldos.pretrained import PRETRAINED_DIR, bundled_models, load_pretrained, resolve_model
from tests.conftest import rocksalt

runner = CliRunner()
BUNDLED = {"jarvis-phdos": 66, "mp-phdos": 51, "mp-phdos-xtal2dos": 51, "xtb-edos": 300}
NORMALIZATION = {"jarvis-phdos": "max", "mp-phdos": "max", "mp-phdos-xtal2dos": "sum",
                 "xtb-edos": "valence"}
UNIT = {"xtb-edos": "eV"}


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_model_is_small_and_carries_its_card(name: str) -> None:
    directory = resolve_model(name)
    assert directory.parent == PRETRAINED_DIR
    assert (directory / "weights.pt").stat().st_size < 25 * 2**20
    card = json.loads((directory / "card.json").read_text())
    assert card["grid"]["count"] == BUNDLED[name]
    assert card["normalization"] == NORMALIZATION[name]
    assert card["training"]["command"].startswith("crystaldos train")
    val = card["validation"]
    assert val["model"]["mae"] < val["composition_knn"]["mae"] < val["mean_spectrum"]["mae"]


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_predict_with_bundled_model_from_a_cif(name: str, tmp_path: Path) -> None:
    cif = tmp_path / "NaCl.cif"
    rocksalt().to_ase().write(cif)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["predict", "--model", name, str(cif), "--output", str(out),
                                 "-q"])
    assert result.exit_code == 0, result.output
    rec = json.loads(out.read_text())
    assert rec["id"] == "NaCl" and len(rec["dos"]) == BUNDLED[name]
    assert rec["grid"]["count"] == BUNDLED[name]
    assert rec["grid"]["unit"] == UNIT.get(name, "cm^-1")
    assert max(rec["dos"]) > 0


def test_models_command_lists_both() -> None:
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0
    for name, count in BUNDLED.items():
        assert name in result.output
        assert f"grid {count} points" in result.output
    assert "stability-uip  (boosted trees on chgnet + sevennet summaries" in result.output
    for trees in ("gap-trees  (", "gap-trees-uip  (boosted trees on composition, cell and chgnet"):
        listing = result.output.split(trees)[1].split("\n")
        assert listing[2].startswith("  speed ") and "structures/s" in listing[2]
    # each validation line puts W1 beside MAE, with the baseline's, in the grid's unit
    assert "phonondb val MAE" in result.output and ") cm^-1, 1100 spectra" in result.output
    assert "W1 " in result.output.split("phdos  (ALIGNNDOS")[1].split("\n")[2]


def test_bundled_stability_classifier_is_complete() -> None:
    from crystaldos.graphs.uip import UIP_WIDTHS, summary_globals
    from crystaldos.prediction.stability import StabilityClassifier

    classifier = StabilityClassifier.load()
    width = sum(4 * UIP_WIDTHS[p] + len(summary_globals(p)) for p in classifier.potentials)
    assert classifier.n_features == width
    assert 0.0 < classifier.threshold < 1.0
    assert classifier.card["validation"]["n"] == 395


def test_aliases_resolve_to_the_same_model() -> None:
    models = bundled_models()
    assert models["jarvis-phdos-v1"] == models["jarvis-phdos"]
    assert load_pretrained("mp-phdos").grid.count == 51


def test_xtb_edos_gives_band_gaps_from_the_command_line(tmp_path: Path) -> None:
    cif = tmp_path / "NaCl.cif"
    rocksalt().to_ase().write(cif)
    pred = tmp_path / "pred.jsonl"
    assert runner.invoke(app, ["predict", "--model", "xtb-edos", str(cif), "-o", str(pred),
                               "-q"]).exit_code == 0
    table = tmp_path / "props.csv"
    result = runner.invoke(app, ["properties", str(pred), "--kind", "electronic", "-o",
                                 str(table)])
    assert result.exit_code == 0, result.output
    header, row = table.read_text().splitlines()[:2]
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert float(values["band_gap_eV"]) > 1.0  # NaCl: a wide-gap insulator
    assert values["electronic_class"] in ("semiconductor", "insulator")


def test_pbe_edos_takes_gaps_and_metal_probabilities_from_gap_trees(tmp_path: Path) -> None:
    cif = tmp_path / "NaCl.cif"
    rocksalt().to_ase().write(cif)
    pred = tmp_path / "pred.jsonl"
    result = runner.invoke(app, ["predict", "--model", "pbe-edos", str(cif), "-o", str(pred),
                                 "-q"])
    assert result.exit_code == 0, result.output
    rec = json.loads(pred.read_text())
    assert len(rec["dos"]) == 300 and rec["grid"]["unit"] == "eV"
    from crystaldos.prediction.band_gap import GapTrees

    card = json.loads((resolve_model("pbe-edos") / "card.json").read_text())
    trees = GapTrees.load(card["gap_trees"]).head_values(rocksalt())
    assert rec["metal_probability"] == trees["metal_probability"] < 0.5
    assert rec["band_gap_direct_eV"] == trees["band_gap_direct_eV"] > 3.0  # PBE about 5 eV
    assert "metal_probability_std" not in rec  # one set of trees: no spread across members
    heads = card["validation"]["heads"]
    assert heads["metal_accuracy"] > heads["composition_rule_accuracy"]
    assert card["target"]["energy_zero"] == "fermi" and "caveat" in card
