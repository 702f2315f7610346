from pathlib import Path

import pytest
import torch
from torch_geometric.data import Batch

from crystaldos.datasets import load_jsonl
from crystaldos.graphs.crystal_graph import GraphSettings
from crystaldos.models.saving import build_model
from crystaldos.models.xtal2dos import DECODERS, TransformerBinDecoder, Xtal2DoS
from crystaldos.spectra.normalize import normalize
from crystaldos.training.data import graphs_with_targets
from crystaldos.training.losses import get_loss

SETTINGS = GraphSettings(neighbors=8, cutoff=6.0, atom_features="attr5", line_graph=False)


def tiny(decoder: str, **kw) -> Xtal2DoS:
    return Xtal2DoS(5, 51, hidden=16, heads=2, encoder_layers=2, decoder=decoder,
                    decoder_layers=1, chunk=8, edge_bins=12, cutoff=6.0, **kw)


@pytest.fixture(scope="module")
def toy_batch(toy_dataset_file: Path) -> Batch:
    data = load_jsonl(toy_dataset_file)
    unit = {r.id: normalize(r.dos, data.grid, "sum")[0].astype("float32") for r in data}
    graphs = graphs_with_targets(data.records[:16], SETTINGS, targets=unit)
    return Batch.from_data_list(graphs)


@pytest.mark.parametrize("decoder", DECODERS)
def test_every_decoder_learns_on_a_tiny_fixture(toy_batch: Batch, decoder: str) -> None:
    torch.manual_seed(0)
    model = tiny(decoder)
    out = model(toy_batch)
    assert out.shape == (16, 51)
    torch.testing.assert_close(out.sum(-1), torch.ones(16))  # softmax: unit-sum spectra
    loss_fn = get_loss("kl")
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = loss_fn(model(toy_batch), toy_batch.y).item()
    for _ in range(30):
        opt.zero_grad()
        loss = loss_fn(model(toy_batch), toy_batch.y)
        loss.backward()
        opt.step()
    assert loss_fn(model(toy_batch), toy_batch.y).item() < 0.7 * first


@pytest.mark.parametrize("causal", [True, False])
def test_causal_mask_hides_later_bins(causal: bool) -> None:
    torch.manual_seed(0)
    dec = TransformerBinDecoder(12, 16, heads=2, layers=2, causal=causal).eval()
    atoms = torch.randn(3, 5, 16)
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[0, 3:] = False
    crystal = torch.randn(3, 16)
    before = dec(atoms, mask, crystal)
    with torch.no_grad():
        dec.position.table[7] += 5.0  # change only the query of bin 7
    after = dec(atoms, mask, crystal)
    earlier_changed = not torch.allclose(before[:, :7], after[:, :7], atol=1e-6)
    assert earlier_changed is not causal  # with the mask, bins 0..6 cannot see bin 7
    assert not torch.allclose(before[:, 7:], after[:, 7:])


def test_padded_atoms_are_ignored() -> None:
    torch.manual_seed(0)
    dec = TransformerBinDecoder(6, 16, heads=2, layers=1).eval()
    atoms = torch.randn(1, 4, 16)
    mask = torch.tensor([[True, True, False, False]])
    crystal = torch.randn(1, 16)
    a = dec(atoms, mask, crystal)
    atoms[0, 2:] = 100.0
    torch.testing.assert_close(a, dec(atoms, mask, crystal))


def test_options_and_registry(toy_batch: Batch) -> None:
    for kw in ({"position": "onehot"}, {"composition": False}, {"output_activation": "softplus"}):
        out = tiny("transformer", **kw)(toy_batch)
        assert out.shape == (16, 51) and torch.all(out >= 0)
    model = build_model("Xtal2DoS", {"atom_features": 5, "n_out": 51, "hidden": 16, "heads": 2,
                                     "decoder": "chunk_gru", "chunk": 10})
    assert model(toy_batch).shape == (16, 51)
    with pytest.raises(ValueError, match="unknown decoder"):
        tiny("lstm")
    with pytest.raises(ValueError, match="divisible"):
        Xtal2DoS(5, 51, hidden=10, heads=4)
