import pytest
import torch

from crystaldos.embeddings import MomentsEmbedding
from crystaldos.errors import DatasetError
from crystaldos.models.tinynet import TinyNet, load_tinynet, save_tinynet


def _model() -> TinyNet:
    torch.manual_seed(0)
    return TinyNet((11, 17), n_inputs=5, n_dos=7)


def test_each_element_has_its_own_network_and_atoms_are_independent() -> None:
    model = _model()
    x = torch.randn(6, 5)
    numbers = torch.tensor([11, 17, 11, 17, 17, 11])
    ldos, forces = model(x, numbers)
    assert ldos.shape == (6, 7) and forces.shape == (6, 3)
    perm = torch.randperm(6)
    ldos_p, forces_p = model(x[perm], numbers[perm])
    torch.testing.assert_close(ldos_p, ldos[perm])
    torch.testing.assert_close(forces_p, forces[perm])
    # the same features on a different element give a different answer
    assert not torch.allclose(model(x[:1], torch.tensor([17]))[0], ldos[:1])
    sizes = [layer.out_features for layer in model.trunks[0] if hasattr(layer, "out_features")]
    assert sizes == [16, 32]
    with pytest.raises(ValueError, match="elements outside"):
        model(x[:1], torch.tensor([8]))


def test_statistics_standardize_inputs_and_scale_outputs() -> None:
    model = _model()
    x = torch.randn(40, 5) * 3 + 7
    numbers = torch.tensor([11, 17] * 20)
    model.set_statistics(x, numbers, torch.rand(40, 7), torch.randn(40, 3) * 2)
    assert model.input_mean[0].tolist() == pytest.approx(x[::2].mean(0).tolist(), rel=1e-5)
    assert float(model.force_scale) == pytest.approx(2.0, rel=0.3)
    with pytest.raises(ValueError, match="Z=17"):
        model.set_statistics(x[::2], numbers[::2], torch.rand(20, 7), torch.randn(20, 3))


def test_save_and_load_round_trip(tmp_path) -> None:
    model = _model()
    emb = MomentsEmbedding((11, 17), max_length=3, n_neighbors=0)
    path = save_tinynet(tmp_path / "t.pt", model, emb, [0.0, 1.0, 2.0, 3, 4, 5, 6], {"a": 1})
    bundle = load_tinynet(path)
    x, numbers = torch.randn(3, 5), torch.tensor([11, 17, 11])
    torch.testing.assert_close(bundle.model(x, numbers)[0], model(x, numbers)[0])
    assert bundle.embedding == emb and bundle.metadata == {"a": 1}
    (tmp_path / "bad.pt").write_bytes(b"junk")
    with pytest.raises(DatasetError, match=r"bad\.pt: not a crystaldos TinyNet file"):
        load_tinynet(tmp_path / "bad.pt")
