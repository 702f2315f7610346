import ase.io
import numpy as np
import pytest
from typer.testing import CliRunner

from crystaldos.cli import app
from crystaldos.models.boosted_trees import BoostedTrees
from crystaldos.prediction.stability import StabilityClassifier
from tests.conftest import rocksalt


def test_classifier_round_trips_and_reads_the_summary(tmp_path) -> None:
    pytest.importorskip("chgnet")
    sklearn = pytest.importorskip("sklearn.ensemble")
    from crystaldos.graphs.uip import summary_globals, uip_crystal_summary

    rng = np.random.default_rng(0)
    width = 4 * 64 + len(summary_globals("chgnet"))
    x = rng.normal(size=(200, width))
    force = 4 * 64 + summary_globals("chgnet").index("max_force_eV_per_A")
    x[:, force] = rng.uniform(0, 1, 200)
    # a toy rule: large residual forces mean unstable
    model = sklearn.HistGradientBoostingClassifier(max_iter=20).fit(x, x[:, force] > 0.5)
    toy = StabilityClassifier((BoostedTrees.from_sklearn(model),), ("chgnet",), 0.5,
                              {"validation_note": "toy"})
    toy.save(tmp_path / "toy")
    loaded = StabilityClassifier.load(tmp_path / "toy")
    assert loaded.potentials == ("chgnet",) and loaded.threshold == 0.5
    # several members (fold models): their probabilities are averaged
    halves = [sklearn.HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(
        x[part], x[part, force] > 0.5) for part in (slice(0, 100), slice(100, 200))]
    pair = StabilityClassifier(tuple(BoostedTrees.from_sklearn(m) for m in halves),
                               ("chgnet",), 0.5, {})
    pair.save(tmp_path / "toy")  # replaces the single member
    again = StabilityClassifier.load(tmp_path / "toy")
    assert len(again.members) == 2 and not (tmp_path / "toy" / "trees.npz").exists()
    np.testing.assert_allclose(again.probability(x[:5]), np.mean(
        [m.predict_proba(x[:5])[:, 1] for m in halves], axis=0), atol=1e-6)
    crystal = rocksalt()
    np.testing.assert_allclose(loaded.features(crystal), uip_crystal_summary(crystal, "chgnet"))
    row = loaded.row(crystal)
    assert row["formula"] == crystal.formula
    assert row["unstable"] is False and row["unstable_probability"] < 0.5  # forces vanish


def test_platt_scaling_rises_and_keeps_the_calls_at_the_threshold() -> None:
    from crystaldos.prediction.stability import platt

    p = np.array([0.0, 1e-4, 0.02, 0.05, 0.3, 0.9, 1.0])
    q = platt(p, 0.8, 1.2)
    assert np.all(np.diff(q) > 0) and np.all((q > 0) & (q < 1))
    # slope 1, intercept 0 is the identity (inside the clip)
    np.testing.assert_allclose(platt(p[1:-1], 1.0, 0.0), p[1:-1], rtol=1e-9)
    # a raw threshold and its calibrated image make the same calls
    t = 0.05
    assert np.array_equal(p >= t, q >= platt(np.array([t]), 0.8, 1.2)[0])


def test_card_calibration_maps_the_members_mean(tmp_path) -> None:
    sklearn = pytest.importorskip("sklearn.ensemble")
    from crystaldos.prediction.stability import platt

    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 6))
    model = sklearn.HistGradientBoostingClassifier(max_iter=15).fit(x, x[:, 0] > 0.3)
    trees = (BoostedTrees.from_sklearn(model),)
    raw = StabilityClassifier(trees, ("chgnet",), 0.5, {})
    calibration = {"slope": 0.7, "intercept": 0.9}
    calibrated = StabilityClassifier(trees, ("chgnet",), 0.5, {"calibration": calibration})
    calibrated.save(tmp_path / "c")
    loaded = StabilityClassifier.load(tmp_path / "c")
    np.testing.assert_allclose(loaded.probability(x[:8]),
                               platt(raw.probability(x[:8]), **calibration))


def test_rows_say_how_far_the_crystal_is_from_training(tmp_path) -> None:
    pytest.importorskip("chgnet")
    sklearn = pytest.importorskip("sklearn.ensemble")
    from crystaldos.graphs.uip import summary_globals
    from crystaldos.models.domain import training_domain
    from crystaldos.structures import from_arrays

    width = 4 * 64 + len(summary_globals("chgnet"))
    x = np.random.default_rng(2).normal(size=(60, width))
    model = sklearn.HistGradientBoostingClassifier(max_iter=5).fit(x, x[:, 0] > 0)
    nacl = rocksalt()
    def swapped(cation: str, anion: str) -> object:
        return from_arrays(nacl.lattice, [cation if s == "Na" else anion for s in nacl.species],
                           frac_coords=nacl.frac_coords, id=cation + anion)

    kcl = swapped("K", "Cl")
    card = {"domain": training_domain([nacl, swapped("Li", "F")])}  # two: a distance scale
    classifier = StabilityClassifier((BoostedTrees.from_sklearn(model),), ("chgnet",), 0.5, card)
    seen, new = classifier.row(nacl), classifier.row(kcl)
    assert seen["ood_score"] == 0.0 and seen["note"] == ""
    assert new["ood_score"] > 0 and "K never seen in training" in new["note"]
    # a card without a domain gives no score
    bare = StabilityClassifier(classifier.members, ("chgnet",), 0.5, {})
    assert bare.row(nacl)["ood_score"] is None


def test_missing_classifier_is_named(tmp_path) -> None:
    from crystaldos.errors import CrystalDosError

    with pytest.raises(CrystalDosError, match=r"classifier\.json"):
        StabilityClassifier.load(tmp_path)


def test_stability_command_writes_rows_and_names_bad_files(tmp_path) -> None:
    pytest.importorskip("chgnet")
    pytest.importorskip("sevenn")
    good = tmp_path / "nacl.cif"
    ase.io.write(good, rocksalt().to_ase())
    bad = tmp_path / "broken.cif"
    bad.write_text("data_x\n_cell_length_a 3\n")
    out = tmp_path / "stability.csv"
    result = CliRunner().invoke(app, ["stability", str(good), str(bad), "-o", str(out)])
    assert result.exit_code == 1, result.output  # one skipped
    assert "broken.cif" in result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "id,formula,unstable_probability,unstable,ood_score,note"
    assert lines[1].startswith("nacl,") and len(lines) == 2
    assert 0.0 <= float(lines[1].split(",")[2]) <= 1.0
