import numpy as np
import pytest

from crystaldos.errors import CrystalDosError
from crystaldos.models.boosted_trees import BoostedTrees


def test_exported_trees_give_scikit_learns_probabilities(tmp_path) -> None:
    sklearn = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6))
    x[::9, 3] = np.nan  # missing values take the side the trees learnt for them
    y = (x[:, 0] + np.nan_to_num(x[:, 3], nan=2.0) - 0.5 * x[:, 5]) > 0.3
    model = sklearn.HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(x, y)
    trees = BoostedTrees.from_sklearn(model)
    probe = rng.normal(size=(100, 6))
    probe[::4, 3] = np.nan
    expected = model.predict_proba(probe)[:, 1]
    np.testing.assert_allclose(trees.probability(probe), expected, rtol=1e-9, atol=1e-12)
    trees.save(tmp_path / "trees.npz")
    loaded = BoostedTrees.load(tmp_path / "trees.npz")
    np.testing.assert_allclose(loaded.probability(probe), expected, rtol=1e-9, atol=1e-12)


def test_wrong_width_and_unreadable_file_are_clear(tmp_path) -> None:
    sklearn = pytest.importorskip("sklearn.ensemble")
    x = np.random.default_rng(1).normal(size=(60, 3))
    trees = BoostedTrees.from_sklearn(
        sklearn.HistGradientBoostingClassifier(max_iter=5).fit(x, x[:, 0] > 0))
    with pytest.raises(CrystalDosError, match="3 features"):
        trees.probability(np.zeros((2, 4)))
    bad = tmp_path / "trees.npz"
    bad.write_text("not an archive")
    with pytest.raises(CrystalDosError, match=r"trees\.npz"):
        BoostedTrees.load(bad)


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error"])
def test_exported_regressor_gives_scikit_learns_predictions(loss) -> None:
    sklearn = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 4))
    x[::7, 1] = np.nan
    y = 2.0 * x[:, 0] + np.nan_to_num(x[:, 1], nan=-1.0) ** 2 + 0.1 * rng.normal(size=300)
    model = sklearn.HistGradientBoostingRegressor(loss=loss, max_iter=30, random_state=0)
    trees = BoostedTrees.from_sklearn(model.fit(x, y))
    probe = rng.normal(size=(50, 4))
    probe[::3, 1] = np.nan
    np.testing.assert_allclose(trees.decision(probe), model.predict(probe), rtol=1e-9,
                               atol=1e-12)


def test_multiclass_models_are_refused() -> None:
    sklearn = pytest.importorskip("sklearn.ensemble")
    x = np.random.default_rng(3).normal(size=(90, 2))
    model = sklearn.HistGradientBoostingClassifier(max_iter=3).fit(x, np.arange(90) % 3)
    with pytest.raises(CrystalDosError, match="binary classifiers and regressors"):
        BoostedTrees.from_sklearn(model)
