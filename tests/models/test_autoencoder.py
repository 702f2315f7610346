import torch
from torch_geometric.data import Batch

from crystaldos.graphs.crystal_graph import GraphSettings, build_graph
from crystaldos.models.autoencoder import AELatentALIGNN, SpectrumAutoencoder
from tests.conftest import rocksalt, silicon_primitive

GNN = {"atom_features": 5, "n_out": 66, "hidden": 16, "embedding": 8, "alignn_layers": 1,
       "gcn_layers": 1, "line_graph_dim": 8, "norm": "layer"}


def test_autoencoder_shapes_and_range() -> None:
    ae = SpectrumAutoencoder(66, latent=12, hidden=(32, 16))
    y = torch.rand(5, 66)
    assert ae.encode(y).shape == (5, 12)
    out = ae(y)
    assert out.shape == (5, 66) and (out > 0).all() and (out < 1).all()


def test_ae_alignn_decodes_latent_and_trains_only_the_gnn() -> None:
    model = AELatentALIGNN(GNN, {"n_points": 66, "latent": 8, "hidden": [32]})
    settings = GraphSettings(neighbors=8, atom_features="attr5")
    b = Batch.from_data_list([build_graph(c, settings) for c in (rocksalt(), silicon_primitive())])
    assert model.latent(b).shape == (2, 8)
    out = model(b)
    assert out.shape == (2, 66)
    out.mean().backward()
    assert all(p.grad is None for p in model.autoencoder.parameters())
    missing = [n for n, p in model.gnn.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []


def test_autoencoder_scale_covers_spectra_above_one() -> None:
    import numpy as np

    from crystaldos.training.autoencoder import fit_autoencoder
    from crystaldos.training.config import AutoencoderConfig

    rng = np.random.default_rng(0)
    spectra = 1.4 * rng.random((40, 20))  # per-electron eDOS reaches above 1
    ae, _report = fit_autoencoder(spectra[:30], spectra[30:],
                                 AutoencoderConfig(latent=4, hidden=[16], epochs=3))
    assert ae.scale > spectra[:30].max()
    out = ae.decode(torch.randn(8, 4) * 5)
    assert (out > 0).all() and (out < ae.scale).all() and out.max() > 1.0
    plain = SpectrumAutoencoder(20, latent=4, hidden=(16,))
    assert plain.scale == 1.0


def test_standardized_autoencoder_starts_at_the_mean_and_round_trips() -> None:
    spectra = torch.rand(30, 20) * 0.2
    ae = SpectrumAutoencoder(20, latent=4, hidden=(16,), scale=1.0, standardize=True)
    ae.set_statistics(spectra)
    start = torch.sigmoid(ae.decoder[-2].bias) * ae.scale
    torch.testing.assert_close(start, spectra.mean(0), atol=1e-5, rtol=1e-4)
    assert {"input_mean", "input_std"} <= set(ae.state_dict())
    copy = SpectrumAutoencoder(20, latent=4, hidden=(16,), scale=1.0, standardize=True)
    copy.load_state_dict(ae.state_dict())
    torch.testing.assert_close(copy.encode(spectra), ae.encode(spectra))
