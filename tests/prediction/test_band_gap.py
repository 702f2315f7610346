import ase.io
import numpy as np
import pytest
from typer.testing import CliRunner

from crystaldos.cli import app
from crystaldos.errors import CrystalDosError
from crystaldos.evaluation.baselines import composition_says_metal
from crystaldos.prediction.band_gap import GAP_TREES_DIR, GapTrees
from crystaldos.structures.descriptors import descriptor_matrix
from crystaldos.structures.readers import from_arrays
from tests.conftest import rocksalt, toy_crystals


def metals_and_salts(n: int) -> list:
    """Toy salts and one-element metal cells of varied volume."""
    rng = np.random.default_rng(4)
    out = toy_crystals(n)
    for k, element in enumerate(["Cu", "Al", "Na", "Ni", "Ag", "Fe"] * (n // 6)):
        a = 3.0 + rng.random()
        out.append(from_arrays(a * np.eye(3), [element], frac_coords=[[0, 0, 0]],
                               id=f"metal-{k}"))
    return out


def toy_gaps(n: int) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """(crystals, is_metal, descriptors, gaps) of :func:`metals_and_salts`: a toy gap that
    grows with the electronegativity spread of the salt, 0 for the metals."""
    crystals = metals_and_salts(n)
    metal = np.array([composition_says_metal(c.species) for c in crystals])
    x = descriptor_matrix(crystals)
    return crystals, metal, x, np.where(metal, 0.0, 2.0 * x[:, 1])


def test_trees_fit_save_load_and_give_zero_gap_to_metals(tmp_path) -> None:
    pytest.importorskip("sklearn")
    crystals, metal, x, gaps = toy_gaps(24)
    trees = GapTrees.fit(x, metal, gaps, {"max_iter": 30, "min_samples_leaf": 2},
                         card={"validation_note": "toy"})
    trees.save(tmp_path / "trees")
    loaded = GapTrees.load(tmp_path / "trees")
    p, g = loaded.predict(crystals)
    np.testing.assert_allclose(p, trees.metal.probability(x))
    assert np.all((p >= 0.5) == metal) and np.all(g[metal] == 0) and np.all(g[~metal] > 0)
    row = loaded.row(crystals[0])
    assert row["formula"] == crystals[0].formula and row["metal"] is False
    assert row["band_gap_eV"] > 0 and loaded.card["validation_note"] == "toy"
    assert loaded.predict([])[0].shape == (0,)
    assert row["ood_score"] is None and row["note"] == ""  # a card without a domain


def test_conformal_correction_makes_intervals_cover_the_level() -> None:
    from crystaldos.prediction.band_gap import conformal_correction

    rng = np.random.default_rng(0)
    y = rng.normal(size=999)
    low, high = np.full(999, -0.5), np.full(999, 0.5)  # too narrow for 95 %
    c = conformal_correction(low, high, y, 0.95)
    assert np.mean((y >= low - c) & (y <= high + c)) == pytest.approx(0.95, abs=0.002)
    assert conformal_correction(low - 5, high + 5, y, 0.68) < 0  # too wide: narrowed


def test_gap_intervals_are_saved_hold_the_point_and_reach_zero_for_metals(tmp_path) -> None:
    pytest.importorskip("sklearn")
    from crystaldos.prediction.band_gap import interval_columns

    crystals, metal, x, gaps = toy_gaps(36)
    settings = {"max_iter": 30, "min_samples_leaf": 2}
    plain = GapTrees.fit(x, metal, gaps, settings)
    assert plain.interval_columns() == {} and plain.predict_intervals(x, gaps) == {}
    trees = plain.with_intervals(x, gaps, folds=3)
    assert set(trees.card["interval"]["conformal_correction_eV"]) == {"0.68", "0.95"}
    trees.save(tmp_path / "trees")
    loaded = GapTrees.load(tmp_path / "trees")
    assert loaded.digest() == trees.digest() != plain.digest()
    _, g = loaded.predict(crystals)
    bounds = loaded.predict_intervals(x, g)
    low68, high68 = (bounds[c] for c in interval_columns(0.68))
    low95, high95 = (bounds[c] for c in interval_columns(0.95))
    assert np.all(low95 <= low68) and np.all(low68 <= g) and np.all(g <= high68)
    assert np.all(high68 <= high95) and np.all(low95 >= 0)
    assert np.all(low95[metal] == 0)  # a metal's gap of 0 lies inside
    row = loaded.row(crystals[0])
    assert set(loaded.row_columns()) == set(row)
    assert row["band_gap_low95_eV"] <= row["band_gap_eV"] <= row["band_gap_high95_eV"]


def test_rows_score_the_distance_to_training_and_name_unseen_elements(tmp_path) -> None:
    pytest.importorskip("sklearn")
    from crystaldos.models.domain import training_domain

    crystals = metals_and_salts(24)
    metal = np.array([composition_says_metal(c.species) for c in crystals])
    x = descriptor_matrix(crystals)
    trees = GapTrees.fit(x, metal, np.where(metal, 0.0, 1.0), {"max_iter": 20},
                         card={"domain": training_domain(crystals)})
    trees.save(tmp_path / "trees")
    loaded = GapTrees.load(tmp_path / "trees")
    seen = loaded.row(crystals[0])
    assert seen["ood_score"] == 0.0 and "never seen" not in seen["note"]
    gold = from_arrays(4.08 * np.eye(3), ["Au"], frac_coords=[[0, 0, 0]], id="gold")
    row = loaded.row(gold)
    assert row["ood_score"] > 1.0 and "element Au never seen in training" in row["note"]


def test_unreadable_or_one_class_training_is_named(tmp_path) -> None:
    pytest.importorskip("sklearn")
    with pytest.raises(CrystalDosError, match=r"trees\.json"):
        GapTrees.load(tmp_path)
    x = descriptor_matrix(toy_crystals(6))
    with pytest.raises(CrystalDosError, match="both metals and gapped"):
        GapTrees.fit(x, np.zeros(6, bool), np.ones(6))


@pytest.mark.parametrize("trees", ["gap-trees", "gap-trees-uip"])
def test_gap_command_calls_copper_a_metal_and_salt_gapped(tmp_path, trees: str) -> None:
    if not (GAP_TREES_DIR.parent / trees).is_dir():
        pytest.skip(f"{trees} not bundled")
    if trees.endswith("-uip"):
        pytest.importorskip("chgnet")
    copper = tmp_path / "Cu.cif"
    ase.io.write(copper, from_arrays(3.61 * 0.5 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]),
                                     ["Cu"], frac_coords=[[0, 0, 0]]).to_ase())
    salt = tmp_path / "NaCl.cif"
    ase.io.write(salt, rocksalt().to_ase())
    bad = tmp_path / "empty.cif"
    bad.write_text("")
    out = tmp_path / "gaps.csv"
    result = CliRunner().invoke(app, ["gap", str(copper), str(salt), str(bad), "-o", str(out),
                                      "--trees", trees])
    assert result.exit_code == 1, result.output  # the empty file is skipped, and named
    assert "empty.cif" in result.output
    lines = out.read_text().splitlines()
    assert lines[0] == ("id,formula,metal_probability,metal,band_gap_eV,band_gap_low68_eV,"
                        "band_gap_high68_eV,band_gap_low95_eV,band_gap_high95_eV,ood_score,note")
    assert len(lines) == 3
    cu, nacl = (line.split(",") for line in lines[1:])
    assert cu[3] == "True" and float(cu[4]) == 0.0 and float(cu[7]) == 0.0
    assert nacl[3] == "False" and float(nacl[4]) > 3.0  # PBE about 5 eV
    assert float(nacl[7]) <= float(nacl[5]) <= float(nacl[4]) <= float(nacl[6]) <= float(nacl[8])


def test_trees_that_read_a_potential_compute_its_summary_when_predicting(tmp_path) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("chgnet")
    crystals = metals_and_salts(12)
    metal = np.array([composition_says_metal(c.species) for c in crystals])
    x = descriptor_matrix(crystals, uip="chgnet")
    trees = GapTrees.fit(x, metal, np.where(metal, 0.0, 1.0), {"max_iter": 10},
                         card={"uip": "chgnet"})
    trees.save(tmp_path / "trees")
    loaded = GapTrees.load(tmp_path / "trees")
    assert loaded.uip == "chgnet"
    np.testing.assert_allclose(loaded.predict(crystals)[0], trees.metal.probability(x))
    plain = GapTrees(trees.metal, trees.gap, trees.threshold, {})
    assert plain.digest() != loaded.digest()  # rows made with other inputs say so
    with pytest.raises(CrystalDosError, match="features per sample"):
        plain.predict(crystals)  # the trees refuse descriptors without the potential's


def test_bundled_tree_sets_are_found_by_name(tmp_path) -> None:
    from crystaldos.prediction.band_gap import bundled_gap_trees, resolve_gap_trees

    assert resolve_gap_trees(None) == GAP_TREES_DIR
    for name in bundled_gap_trees():
        assert resolve_gap_trees(name) == GAP_TREES_DIR.parent / name
    assert resolve_gap_trees(tmp_path / "mine") == tmp_path / "mine"
    with pytest.raises(CrystalDosError, match="no-such-trees: no such tree set; choose a "
                       "bundled one"):
        GapTrees.load("no-such-trees")
