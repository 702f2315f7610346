import numpy as np
import pytest
import torch

from crystaldos.errors import CrystalDosError
from crystaldos.models.ensemble import assemble_ensemble
from crystaldos.models.saving import build_model, load_model, save_model
from crystaldos.prediction.engine import predict_to_file
from crystaldos.prediction.pipeline import PredictionPipeline
from crystaldos.prediction.readers import read_predictions
from crystaldos.screening import read_table, screen
from tests.conftest import rocksalt, silicon_primitive


@pytest.fixture(scope="module")
def ensemble_dir(tiny_model_dir, tmp_path_factory):
    """Three members: the tiny model and two copies with perturbed weights."""
    root = tmp_path_factory.mktemp("ensemble")
    members = [tiny_model_dir]
    for seed in (1, 2):
        bundle = load_model(tiny_model_dir)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in bundle.model.parameters():
                p.add_(0.05 * torch.randn(p.shape, generator=gen))
        members.append(save_model(root / f"m{seed}", bundle.model, bundle.card))
    return assemble_ensemble(members, root / "ens", name="tiny-ens",
                             uncertainty={"dos_scale": 2.0,
                                          "property_scale": {"debye_temperature_K": 3.0}})


def test_ensemble_rows_carry_spread_and_property_intervals(ensemble_dir) -> None:
    bundle = load_model(ensemble_dir)
    assert bundle.card["model_class"] == "DeepEnsemble" and len(bundle.card["members"]) == 3
    pipeline = PredictionPipeline(bundle, properties=True)
    assert pipeline.ensemble and "debye_temperature_K_std" in pipeline.columns
    assert "dos_spread" in pipeline.columns
    (row,) = list(pipeline.run([rocksalt()]))
    assert row.dos.max() == pytest.approx(1.0)  # the mean is max-normalized again
    assert row.spread is not None and row.spread.values.shape == row.dos.shape
    assert np.all(row.spread.values >= 0) and row.spread.values.max() > 0
    assert row.values["debye_temperature_K_std"] > 0 and row.values["dos_spread"] > 0
    # the calibration factors of the card scale the raw member spread
    raw = PredictionPipeline(load_model(ensemble_dir), properties=True)
    raw.dos_scale, raw.property_scales = 1.0, {}
    (plain,) = list(raw.run([rocksalt()]))
    np.testing.assert_allclose(row.spread.values, 2.0 * plain.spread.values, rtol=1e-6)
    assert row.values["debye_temperature_K_std"] == pytest.approx(
        3.0 * plain.values["debye_temperature_K_std"])


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_spread_round_trips_through_every_file_format(ensemble_dir, tmp_path, suffix) -> None:
    pipeline = PredictionPipeline(load_model(ensemble_dir), properties=True)
    out = tmp_path / f"pred{suffix}"
    assert predict_to_file(pipeline, [rocksalt(), silicon_primitive()], out) == (2, 0)
    rows = list(read_predictions(out))
    assert len(rows) == 2 and all(r.spread is not None for r in rows)
    (again,) = list(pipeline.run([rocksalt()]))
    np.testing.assert_allclose(rows[0].spread.values, again.spread.values, atol=1e-6)


def test_screen_stores_the_spread(ensemble_dir, tmp_path) -> None:
    bundle = load_model(ensemble_dir)
    screen([rocksalt(), silicon_primitive()], bundle, tmp_path / "run")
    table = read_table(tmp_path / "run")
    assert "dos_std" in table.column_names and "debye_temperature_K_std" in table.column_names


def test_members_must_match(tiny_model_dir, tmp_path) -> None:
    bundle = load_model(tiny_model_dir)
    other = save_model(tmp_path / "other", bundle.model,
                       {**bundle.card, "normalization": "area"})
    with pytest.raises(CrystalDosError, match="normalization differs"):
        assemble_ensemble([tiny_model_dir, other], tmp_path / "ens", name="x")


def test_cli_ensemble_joins_members(tiny_model_dir, ensemble_dir, tmp_path) -> None:
    from typer.testing import CliRunner

    from crystaldos.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["ensemble", str(tiny_model_dir), str(tiny_model_dir), "-o",
                                 str(tmp_path / "e"), "--name", "pair"])
    assert result.exit_code == 0, result.output
    assert load_model(tmp_path / "e").card["init_args"]["n_members"] == 2
    result = runner.invoke(app, ["ensemble", str(tiny_model_dir), "-o", str(tmp_path / "f"),
                                 "--name", "one"])
    assert result.exit_code == 2 and "at least 2" in result.output


def test_web_page_gets_bands_and_intervals_from_an_ensemble(ensemble_dir) -> None:
    pytest.importorskip("fastapi")
    from crystaldos.web.analysis import ModelRegistry, predict_one

    result = predict_one(rocksalt(), ModelRegistry([str(ensemble_dir)]), [100.0, 300.0])
    (model,) = result["models"]
    assert len(model["dos_std"]) == len(model["dos"]) and max(model["dos_std"]) > 0
    assert model["properties"]["debye_temperature_K"]["std"] > 0


def test_a_guest_on_a_wider_grid_counts_its_window_repeat_times(tiny_model_dir, ensemble_dir,
                                                                 tmp_path) -> None:
    from crystaldos.models.ensemble import unpack_members
    from crystaldos.spectra.grid import Grid

    bundle = load_model(tiny_model_dir)
    grid = bundle.grid
    wide = Grid(grid.start - 2 * grid.step, grid.step, grid.count + 5, grid.unit, grid.kind)
    args = {**bundle.card["init_args"], "n_out": wide.count}
    guest_model = build_model(bundle.card["model_class"], args)
    guest = save_model(tmp_path / "guest", guest_model,
                       {**bundle.card, "init_args": args, "grid": wide.to_dict()})
    members = unpack_members(ensemble_dir, tmp_path / "unpacked")
    assert len(members) == 3
    for k, member in enumerate(members):  # the members come back as they went in
        original = load_model(ensemble_dir).model.members[k].state_dict()
        assert all(torch.equal(original[n], t) for n, t in
                   load_model(member).model.state_dict().items())
    path = assemble_ensemble(members[:2], tmp_path / "mixed", name="mixed",
                             guests=[(guest, 2)])
    mixed = load_model(path)
    assert mixed.card["init_args"]["guests"][0]["offset"] == 2
    from torch_geometric.data import Batch

    from crystaldos.graphs.crystal_graph import build_graph

    batch = Batch.from_data_list([build_graph(rocksalt(), bundle.graph_settings)])
    with torch.no_grad():
        out = mixed.model(batch)
        window = guest_model(batch)[:, 2:2 + grid.count]
    assert out.shape == (1, 4, grid.count)
    torch.testing.assert_close(out[0, 2], window[0])
    torch.testing.assert_close(out[0, 3], window[0])
    (row,) = list(PredictionPipeline(mixed).run([rocksalt()]))
    assert row.spread is not None and row.dos.shape == (grid.count,)
    narrow = Grid(grid.start + 0.5 * grid.step, grid.step, grid.count, grid.unit, grid.kind)
    off = save_model(tmp_path / "off", guest_model,
                     {**bundle.card, "init_args": args,
                      "grid": Grid(narrow.start, narrow.step, wide.count, narrow.unit,
                                   narrow.kind).to_dict()})
    with pytest.raises(CrystalDosError, match="does not lie on the points"):
        assemble_ensemble(members[:2], tmp_path / "bad", name="bad", guests=[(off, 1)])


def test_a_guest_with_a_line_graph_joins_a_member_without_one(tiny_model_dir, toy_dataset_file,
                                                              tmp_path) -> None:
    from torch_geometric.data import Batch

    from crystaldos.graphs.crystal_graph import build_graph
    from crystaldos.spectra.grid import Grid
    from crystaldos.training.config import TrainConfig
    from crystaldos.training.trainer import train

    member_dir = train(TrainConfig(dataset=str(toy_dataset_file), output=str(tmp_path / "x2d"),
                                   preset="xtal2dos-tiny", epochs=1, progress=False,
                                   accelerator="cpu"))
    member = load_model(member_dir)
    tiny = load_model(tiny_model_dir)
    assert not member.graph_settings.line_graph and tiny.graph_settings.line_graph
    grid = member.grid
    wide = Grid(grid.start - grid.step, grid.step, grid.count + 3, grid.unit, grid.kind)
    args = {**tiny.card["init_args"], "n_out": wide.count}
    guest_model = build_model(tiny.card["model_class"], args)
    guest = save_model(tmp_path / "guest", guest_model,
                       {**tiny.card, "init_args": args, "grid": wide.to_dict()})
    mixed = load_model(assemble_ensemble([member_dir], tmp_path / "mix", name="mix",
                                         guests=[(guest, 1)]))
    assert mixed.graph_settings == tiny.graph_settings  # the one with the line graph
    batch = Batch.from_data_list([build_graph(rocksalt(), mixed.graph_settings)])
    alone = Batch.from_data_list([build_graph(rocksalt(), member.graph_settings)])
    with torch.no_grad():
        out = mixed.model(batch)
        torch.testing.assert_close(out[:, 0], member.model(alone))  # the member reads the same
        torch.testing.assert_close(out[:, 1], guest_model(batch)[:, 1:1 + grid.count])
    (row,) = list(PredictionPipeline(mixed).run([rocksalt()]))
    assert row.spread is not None
    with pytest.raises(ValueError, match="at least 2 models"):
        assemble_ensemble([member_dir], tmp_path / "alone", name="alone")
    from crystaldos.graphs.crystal_graph import GraphSettings
    from crystaldos.models.ensemble import shared_graph

    other = GraphSettings.from_dict({**tiny.graph_settings.to_dict(), "three_body_neighbors": 3})
    with pytest.raises(CrystalDosError, match="would read other inputs"):  # two line graphs
        shared_graph(tiny.graph_settings, other, "x")
    assert shared_graph(member.graph_settings, tiny.graph_settings, "x") == tiny.graph_settings
