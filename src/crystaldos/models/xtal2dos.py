"""Xtal2DoS-style crystal-to-sequence models: a graph-attention encoder and a decoder over bins.

Encoder (UniMP): ``TransformerConv`` layers with bond features and the gated residual of UniMP
(``beta=True``), each followed by a residual and layer norm; a global crystal vector is the mean
of the atom states, optionally joined with a composition embedding (the mean atom-feature vector).

Decoders, one value per output bin (all non-autoregressive: bin k is queried by its position):

* ``transformer``: one query per bin from a position code (learned or one-hot) joined with the
  global vector; self-attention over bins (optionally causal, as in the paper) and source
  attention from bins to the crystal's atom states;
* ``gru``: a GRU over bins started from the global vector, the position code as input;
* ``gru_attention``: the same with attention from the GRU state to the atom states at each step;
* ``chunk_gru``: ``gru_attention`` over segments of ``chunk`` bins, one step per segment.

Output activations: ``softmax`` (unit-sum spectra, the Xtal2DoS protocol; pair with the KL
loss), ``softplus``, ``sigmoid`` or ``none``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch_geometric.nn import TransformerConv
from torch_geometric.utils import to_dense_batch

from crystaldos.graphs.basis import RBFExpansion
from crystaldos.models.alignn import mean_pool
from crystaldos.models.layers import ACTIVATION_FUNCTIONS, graph_index

DECODERS = ("transformer", "gru", "gru_attention", "chunk_gru")
POSITIONS = ("learned", "onehot")
ACTIVATIONS = ("softmax", "softplus", "sigmoid", "none")  # keys of ACTIVATION_FUNCTIONS


class UniMPEncoder(nn.Module):
    """Atom states (N, hidden) from a crystal graph (``x``, ``edge_index``, ``edge_vec``)."""

    def __init__(self, atom_features: int, hidden: int = 128, heads: int = 4, layers: int = 3,
                 edge_bins: int = 40, cutoff: float = 8.0, dropout: float = 0.0) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads})")
        self.atom_embedding = nn.Sequential(nn.Linear(atom_features, hidden), nn.SiLU())
        self.edge_embedding = nn.Sequential(RBFExpansion(0.0, cutoff, edge_bins),
                                            nn.Linear(edge_bins, hidden), nn.SiLU())
        self.convs = nn.ModuleList(
            TransformerConv(hidden, hidden // heads, heads=heads, beta=True, edge_dim=hidden,
                            dropout=dropout) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))

    def forward(self, data: Any) -> torch.Tensor:
        h = self.atom_embedding(data.x)
        e = self.edge_embedding(torch.linalg.vector_norm(data.edge_vec, dim=-1))
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = norm(h + nn.functional.silu(conv(h, data.edge_index, e)))
        return h


class PositionCode(nn.Module):
    """(n_bins, width) code of each bin's position: a learned embedding or the one-hot vector."""

    def __init__(self, n_bins: int, hidden: int, kind: str = "learned") -> None:
        super().__init__()
        if kind not in POSITIONS:
            raise ValueError(f"unknown position code {kind!r}; choose from {POSITIONS}")
        self.kind = kind
        if kind == "learned":
            self.table = nn.Parameter(torch.randn(n_bins, hidden) * 0.1)
        else:
            self.register_buffer("table", torch.eye(n_bins), persistent=False)

    @property
    def width(self) -> int:
        return int(self.table.shape[1])

    def forward(self) -> torch.Tensor:
        return self.table


class TransformerBinDecoder(nn.Module):
    """Queries per bin, self-attention over bins (optionally causal), attention to atoms."""

    def __init__(self, n_bins: int, hidden: int, heads: int = 4, layers: int = 2,
                 position: str = "learned", causal: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.position = PositionCode(n_bins, hidden, position)
        self.query = nn.Linear(self.position.width + hidden, hidden)
        layer = nn.TransformerDecoderLayer(hidden, heads, dim_feedforward=2 * hidden,
                                           dropout=dropout, batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, layers)
        self.out = nn.Linear(hidden, 1)
        self.causal = causal
        self.n_bins = n_bins
        if causal:
            mask = torch.triu(torch.full((n_bins, n_bins), float("-inf")), diagonal=1)
            self.register_buffer("causal_mask", mask, persistent=False)

    def forward(self, atoms: torch.Tensor, atom_mask: torch.Tensor,
                crystal: torch.Tensor) -> torch.Tensor:
        b = crystal.shape[0]
        pos = self.position().unsqueeze(0).expand(b, -1, -1)
        glob = crystal.unsqueeze(1).expand(-1, self.n_bins, -1)
        queries = self.query(torch.cat([pos, glob], dim=-1))
        out = self.decoder(queries, atoms, tgt_mask=self.causal_mask if self.causal else None,
                           tgt_is_causal=self.causal, memory_key_padding_mask=~atom_mask)
        return self.out(out).squeeze(-1)


class AtomAttention(nn.Module):
    """One query vector per crystal attends to its atom states -> (B, hidden) context."""

    def __init__(self, hidden: int, heads: int = 4) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(hidden, heads, batch_first=True)

    def forward(self, query: torch.Tensor, atoms: torch.Tensor,
                atom_mask: torch.Tensor) -> torch.Tensor:
        out, _ = self.attention(query.unsqueeze(1), atoms, atoms, key_padding_mask=~atom_mask,
                                need_weights=False)
        return out.squeeze(1)


class GRUBinDecoder(nn.Module):
    """A GRU over bins (or over segments of ``chunk`` bins), optionally attending to atoms."""

    def __init__(self, n_bins: int, hidden: int, heads: int = 4, attention: bool = False,
                 chunk: int = 1, position: str = "learned") -> None:
        super().__init__()
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        self.n_bins, self.chunk = n_bins, chunk
        self.steps = -(-n_bins // chunk)
        self.position = PositionCode(self.steps, hidden, position)
        self.attention = AtomAttention(hidden, heads) if attention else None
        width = self.position.width + (hidden if attention else 0)
        self.cell = nn.GRUCell(width, hidden)
        self.out = nn.Linear(hidden * (2 if attention else 1), chunk)

    def forward(self, atoms: torch.Tensor, atom_mask: torch.Tensor,
                crystal: torch.Tensor) -> torch.Tensor:
        state = crystal
        codes = self.position()
        outputs = []
        for step in range(self.steps):
            inputs = codes[step].unsqueeze(0).expand(crystal.shape[0], -1)
            if self.attention is not None:
                context = self.attention(state, atoms, atom_mask)
                inputs = torch.cat([inputs, context], dim=-1)
            state = self.cell(inputs, state)
            if self.attention is not None:
                read = torch.cat([state, self.attention(state, atoms, atom_mask)], dim=-1)
            else:
                read = state
            outputs.append(self.out(read))
        return torch.cat(outputs, dim=-1)[:, :self.n_bins]


class Xtal2DoS(nn.Module):
    """Graph-attention encoder + bin decoder -> (B, n_out) spectrum.

    Args:
        atom_features: width F of the atom-feature vectors (``x``).
        n_out: number of output bins.
        hidden, heads: width and attention heads everywhere.
        encoder_layers: UniMP layers (3 as in the paper).
        decoder: one of :data:`DECODERS`; decoder_layers for ``transformer``.
        position: ``learned`` or ``onehot`` bin codes; causal: mask later bins (transformer).
        chunk: segment length of ``chunk_gru``.
        composition: join the global vector with an embedding of the mean atom features.
        output_activation: one of :data:`ACTIVATIONS` (``softmax``: unit-sum spectra).
    """

    def __init__(self, atom_features: int, n_out: int, *, hidden: int = 128, heads: int = 4,
                 encoder_layers: int = 3, decoder: str = "transformer", decoder_layers: int = 2,
                 position: str = "learned", causal: bool = False, chunk: int = 8,
                 composition: bool = True, output_activation: str = "softmax",
                 edge_bins: int = 40, cutoff: float = 8.0, dropout: float = 0.0) -> None:
        super().__init__()
        if decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r}; choose from {DECODERS}")
        if output_activation not in ACTIVATIONS:
            raise ValueError(f"unknown output activation {output_activation!r}; choose from "
                             f"{ACTIVATIONS}")
        self.encoder = UniMPEncoder(atom_features, hidden, heads, encoder_layers, edge_bins,
                                    cutoff, dropout)
        self.composition = nn.Linear(atom_features, hidden) if composition else None
        self.crystal = nn.Sequential(nn.Linear(hidden * (2 if composition else 1), hidden),
                                     nn.SiLU())
        if decoder == "transformer":
            self.decoder: nn.Module = TransformerBinDecoder(n_out, hidden, heads, decoder_layers,
                                                            position, causal, dropout)
        else:
            self.decoder = GRUBinDecoder(n_out, hidden, heads,
                                         attention=decoder != "gru",
                                         chunk=chunk if decoder == "chunk_gru" else 1,
                                         position=position)
        self.output_activation = output_activation
        self.n_out = n_out

    def forward(self, data: Any) -> torch.Tensor:
        h = self.encoder(data)
        batch, n_graphs = graph_index(data, h.shape[0], h.device)
        crystal = mean_pool(h, batch, n_graphs)
        if self.composition is not None:
            crystal = torch.cat([crystal, self.composition(mean_pool(data.x, batch, n_graphs))],
                                dim=-1)
        crystal = self.crystal(crystal)
        atoms, mask = to_dense_batch(h, batch, batch_size=n_graphs)
        return ACTIVATION_FUNCTIONS[self.output_activation](self.decoder(atoms, mask, crystal))
