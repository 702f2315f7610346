import pytest
import torch
from torch_geometric.data import Batch

from crystaldos.graphs.crystal_graph import GraphSettings, build_graph
from crystaldos.models.alignn import ALIGNNDOS
from crystaldos.models.layers import ALIGNNLayer, EdgeGatedConv
from tests.conftest import rocksalt, silicon_primitive, triclinic

SETTINGS = GraphSettings(neighbors=8, atom_features="attr5", three_body_neighbors=4)


def batch(settings: GraphSettings = SETTINGS) -> Batch:
    return Batch.from_data_list([build_graph(c, settings)
                                 for c in (rocksalt(), silicon_primitive(), triclinic())])


def small_model(**kw: object) -> ALIGNNDOS:
    args = {"hidden": 16, "embedding": 8, "alignn_layers": 2, "gcn_layers": 1,
            "line_graph_dim": 8, "norm": "layer", **kw}
    return ALIGNNDOS(5, 51, **args)


def test_output_shape_and_non_negative() -> None:
    out = small_model()(batch())
    assert out.shape == (3, 51)
    assert (out >= 0).all()


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_gradients_reach_every_parameter(norm: str) -> None:
    model = small_model(norm=norm, head_hidden=[12])
    model(batch()).square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []


def test_full_width_line_graph_and_paper_layout() -> None:
    model = ALIGNNDOS(5, 66, hidden=16, embedding=8, alignn_layers=1, gcn_layers=1,
                      norm="batch", output_activation="none")
    assert not model.alignn_layers[0].narrow
    assert model(batch()).shape == (3, 66)


def test_prediction_does_not_depend_on_batch_companions() -> None:
    model = small_model().eval()
    graphs = [build_graph(c, SETTINGS) for c in (rocksalt(), silicon_primitive())]
    alone = model(Batch.from_data_list(graphs[:1]))
    together = model(Batch.from_data_list(graphs))[:1]
    torch.testing.assert_close(alone, together, rtol=1e-5, atol=1e-6)


def test_model_without_line_graph_runs_on_plain_graphs() -> None:
    settings = GraphSettings(neighbors=8, atom_features="attr5", line_graph=False)
    model = small_model(alignn_layers=0, gcn_layers=2)
    assert model(batch(settings)).shape == (3, 51)


def test_alignn_model_refuses_graphs_without_line_graph() -> None:
    settings = GraphSettings(neighbors=8, atom_features="attr5", line_graph=False)
    with pytest.raises(ValueError, match="line_graph=True"):
        small_model()(batch(settings))


def test_bad_output_activation_is_named() -> None:
    with pytest.raises(ValueError, match="output activation"):
        small_model(output_activation="tanh")


def test_edge_gated_conv_isolated_receiver_keeps_self_update_only() -> None:
    conv = EdgeGatedConv(4, norm="none")
    h = torch.randn(3, 4)
    e = torch.randn(1, 4)
    edge_index = torch.tensor([[0], [1]])  # only 0 -> 1
    h_new, _ = conv(edge_index, h, e)
    self_up = conv.node_proj(h).split(4, dim=-1)[2]
    torch.testing.assert_close(h_new[2], h[2] + torch.nn.functional.silu(self_up[2]))


def test_narrow_alignn_layer_keeps_widths() -> None:
    layer = ALIGNNLayer(16, 8, norm="layer")
    b = batch()
    h = torch.randn(b.num_nodes, 16)
    e = torch.randn(b.num_edges, 16)
    t = torch.randn(b.lg_edge_index.shape[1], 8)
    h2, e2, t2 = layer(b.edge_index, b.lg_edge_index, h, e, t)
    assert h2.shape == h.shape and e2.shape == e.shape and t2.shape == t.shape


def test_max_pool_takes_the_largest_feature_per_graph() -> None:
    import torch

    from crystaldos.models.alignn import max_pool

    h = torch.tensor([[1.0, 5.0], [3.0, 2.0], [0.0, -1.0]])
    pooled = max_pool(h, torch.tensor([0, 0, 1]), 2)
    assert pooled.tolist() == [[3.0, 5.0], [0.0, -1.0]]
