"""Building blocks of the ALIGNN family: MLP blocks, edge-gated graph convolution, ALIGNN layer.

The edge-gated convolution follows Dwivedi et al. (2020) as used in ALIGNN (Choudhary & DeCost,
npj Comput. Mater. 7, 185, 2021): for an edge j -> i with features e_ij,

    m_ij   = A h_i + B h_j + C e_ij                    (edge message, also the new edge state)
    h_i'   = U h_i + sum_j sigmoid(m_ij) * V h_j / (sum_j sigmoid(m_ij) + eps)
    h_i   <- h_i + SiLU(norm(h_i')),   e_ij <- e_ij + SiLU(norm(m_ij))

Written on plain index tensors (``index_add_``), so it runs on CPU, GPU and under DDP.
"""

from __future__ import annotations

import torch
from torch import nn

NORMS = ("batch", "layer", "none")


def make_norm(kind: str, dim: int) -> nn.Module:
    """BatchNorm1d (as in ALIGNN), LayerNorm (independent of batch composition) or identity."""
    if kind == "batch":
        return nn.BatchNorm1d(dim)
    if kind == "layer":
        return nn.LayerNorm(dim)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; choose from {NORMS}")


class MLPBlock(nn.Sequential):
    """Linear -> norm -> SiLU; (..., d_in) -> (..., d_out)."""

    def __init__(self, d_in: int, d_out: int, norm: str = "layer") -> None:
        super().__init__(nn.Linear(d_in, d_out), make_norm(norm, d_out), nn.SiLU())


def graph_index(data: object, n_nodes: int, device: torch.device) -> tuple[torch.Tensor, int]:
    """(batch vector (N,), number of graphs) of a PyG batch or of a single graph."""
    batch = getattr(data, "batch", None)
    if batch is None:
        batch = torch.zeros(n_nodes, dtype=torch.long, device=device)
    return batch, int(getattr(data, "num_graphs", 1))


#: final activations of spectrum outputs; ``softmax`` gives unit-sum spectra.
ACTIVATION_FUNCTIONS = {
    "none": lambda y: y,
    "relu": torch.relu,
    "softplus": nn.functional.softplus,
    "sigmoid": torch.sigmoid,
    "softmax": lambda y: torch.softmax(y, dim=-1),
}


def scatter_sum(values: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """Sum rows of ``values`` (M, D) into ``size`` rows by ``index`` (M,)."""
    out = values.new_zeros((size, values.shape[1]))
    return out.index_add_(0, index, values)


class EdgeGatedConv(nn.Module):
    """Edge-gated graph convolution on node states (N, D) and edge states (M, D).

    ``edge_index`` (2, M): row 0 the message source j, row 1 the receiving node i.
    Returns updated (nodes, edges), both residual. With ``update_edges=False`` (a last layer
    whose edge output nobody reads) the edges are returned unchanged, so every parameter is used.
    """

    def __init__(self, dim: int, norm: str = "layer", update_edges: bool = True) -> None:
        super().__init__()
        self.dim = dim
        self.update_edges = update_edges
        # one matmul for the four node projections: A (gate, receiver), B (gate, source),
        # U (self update), V (neighbour update)
        self.node_proj = nn.Linear(dim, 4 * dim)
        self.edge_proj = nn.Linear(dim, dim)
        self.node_norm = make_norm(norm, dim)
        self.edge_norm = make_norm(norm, dim) if update_edges else None
        self.act = nn.SiLU()

    def forward(self, edge_index: torch.Tensor, h: torch.Tensor,
                e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        src, dst = edge_index[0], edge_index[1]
        gate_dst, gate_src, self_up, neigh_up = self.node_proj(h).split(self.dim, dim=-1)
        m = gate_dst[dst] + gate_src[src] + self.edge_proj(e)
        sigma = torch.sigmoid(m)
        n = h.shape[0]
        numerator = scatter_sum(sigma * neigh_up[src], dst, n)
        denominator = scatter_sum(sigma, dst, n)
        h_new = self_up + numerator / (denominator + 1e-6)
        h = h + self.act(self.node_norm(h_new))
        if self.edge_norm is None:
            return h, e
        return h, e + self.act(self.edge_norm(m))


class ALIGNNLayer(nn.Module):
    """One ALIGNN update: edge-gated conv on the line graph, then on the crystal graph.

    The line graph's nodes are the bonds (M, D) and its edges the bond pairs (T, D_lg). With
    ``line_graph_dim`` < D the line-graph convolution runs on a projection of the bond states to
    that width and its change is projected back (residual), which cuts the dominant (T, .) cost.
    """

    def __init__(self, dim: int, line_graph_dim: int | None = None, norm: str = "layer", *,
                 update_triplets: bool = True, update_bonds: bool = True) -> None:
        super().__init__()
        lg_dim = line_graph_dim or dim
        self.narrow = lg_dim != dim
        if self.narrow:
            self.down = nn.Linear(dim, lg_dim)
            self.up = nn.Linear(lg_dim, dim)
        self.line_conv = EdgeGatedConv(lg_dim, norm, update_edges=update_triplets)
        self.graph_conv = EdgeGatedConv(dim, norm, update_edges=update_bonds)

    def forward(self, edge_index: torch.Tensor, lg_edge_index: torch.Tensor, h: torch.Tensor,
                e: torch.Tensor, t: torch.Tensor,
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.narrow:
            e_small = self.down(e)
            e_small_new, t = self.line_conv(lg_edge_index, e_small, t)
            e = e + self.up(e_small_new - e_small)
        else:
            e, t = self.line_conv(lg_edge_index, e, t)
        h, e = self.graph_conv(edge_index, h, e)
        return h, e, t
