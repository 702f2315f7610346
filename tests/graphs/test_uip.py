import numpy as np
import pytest

from crystaldos.graphs.atom_features import atom_features
from crystaldos.graphs.crystal_graph import GraphSettings, build_graph
from tests.conftest import rocksalt


def test_chgnet_features_are_appended_to_the_element_table() -> None:
    pytest.importorskip("chgnet")
    settings = GraphSettings(uip_features="chgnet")
    crystal = rocksalt()
    graph = build_graph(crystal, settings)
    assert graph.x.shape == (crystal.n_atoms, settings.feature_width) == (8, 92 + 64)
    np.testing.assert_allclose(graph.x[:, :92].numpy(), atom_features(crystal.numbers, "cgcnn"))
    embeddings = graph.x[:, 92:].numpy()
    na = crystal.numbers == 11
    # symmetry-equivalent atoms get the same embedding, Na and Cl different ones
    np.testing.assert_allclose(embeddings[na], embeddings[na][:1].repeat(na.sum(), 0),
                               atol=1e-4)
    assert not np.allclose(embeddings[na][0], embeddings[~na][0])
    assert settings.key() != GraphSettings().key()


def test_unknown_potential_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown uip_features"):
        GraphSettings(uip_features="mace")
