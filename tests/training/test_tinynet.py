import numpy as np
import pytest

from crystaldos.embeddings import MomentsEmbedding
from crystaldos.training.tinynet import (
    atom_data,
    element_mean_baseline,
    embed_frames,
    evaluate,
    train_tinynet,
)
from tests.tinynet_fixtures import spring_frames

EMBEDDING = MomentsEmbedding((11, 17), max_length=4, n_neighbors=6, bond_factor=1.0)


@pytest.fixture(scope="module")
def data():
    out = {}
    for name, n, seed in (("train", 60, 0), ("val", 15, 1), ("test", 15, 2)):
        frames = spring_frames(n, seed)
        out[name] = atom_data(frames, embed_frames(frames, EMBEDDING))
    return out


def test_tinynet_learns_forces_from_geometry_and_ldos_from_bonds(data) -> None:
    model, history = train_tinynet(data["train"], data["val"], EMBEDDING.species, epochs=150,
                                   patience=150, learning_rate=1e-2, batch_size=64)
    assert len(history) == 150
    ours = evaluate(model, data["test"])
    base = element_mean_baseline(data["train"], data["test"])
    assert ours.force_rmse < 0.5 * base.force_rmse
    assert ours.ldos_mae < 0.5 * base.ldos_mae


def test_without_neighbour_geometry_forces_cannot_be_learned(data) -> None:
    # walk sums are rotation-invariant scalars: they carry no direction for a force vector
    walks_only = EMBEDDING.columns_of(4, 0)
    model, _ = train_tinynet(data["train"].columns(walks_only), data["val"].columns(walks_only),
                             EMBEDDING.species, epochs=60, patience=60, learning_rate=1e-2,
                             batch_size=64)
    ours = evaluate(model, data["test"].columns(walks_only))
    base = element_mean_baseline(data["train"], data["test"])
    assert ours.force_rmse > 0.8 * base.force_rmse
    assert ours.ldos_mae < 0.6 * base.ldos_mae  # the bonds still tell the local DOS


def test_atom_data_flattens_frames_in_order() -> None:
    frames = spring_frames(3, 0)
    embedded = np.arange(3 * 8 * 2, dtype=float).reshape(3, 8, 2)
    d = atom_data(frames, embedded)
    assert len(d) == 24
    assert d.x[9].tolist() == [18.0, 19.0]  # frame 1, atom 1
    assert d.forces[9].tolist() == pytest.approx(frames.forces[1, 1].tolist(), rel=1e-6)
