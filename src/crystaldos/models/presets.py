"""Named model configurations: the papers' ALIGNN sizes and our fast defaults.

A preset fixes graph settings, model init arguments and training defaults, and the paper presets
a target normalization; any of them can be overridden in a training config. The grid is always
the data set's.
"""

from __future__ import annotations

import copy
from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # ALIGNN phonon DOS (Gurunathan et al., Phys. Rev. Materials 7, 023803, 2023)
    "alignn-phdos-paper": {
        "graph": {"neighbors": 20, "cutoff": 8.0, "atom_features": "cgcnn"},
        "model": {"hidden": 256, "embedding": 64, "alignn_layers": 6, "gcn_layers": 6,
                  "norm": "batch", "output_activation": "none"},
        "training": {"loss": "mse", "lr": 1e-3, "batch_size": 64, "weight_decay": 1e-5},
        "normalization": "max",  # on the phdos66 grid of the JARVIS benchmark
    },
    # ALIGNN electronic DOS (Kaundinya et al., Digital Discovery 1, 2022)
    "alignn-edos-paper": {
        "graph": {"neighbors": 16, "cutoff": 8.0, "atom_features": "cgcnn"},
        "model": {"hidden": 256, "embedding": 64, "alignn_layers": 4, "gcn_layers": 4,
                  "norm": "batch", "output_activation": "none"},
        "training": {"loss": "mse", "lr": 1e-3, "batch_size": 64, "weight_decay": 1e-5},
        "normalization": "valence",  # on the edos300 grid
    },
    # Our default: angles only between bonds to the 6 nearest shells, a 32-wide line graph,
    # 2 ALIGNN + 1 gated-GCN layers and LayerNorm; see benchmarks/model_throughput.py for its
    # speed against alignn at paper size.
    "fast": {
        "graph": {"neighbors": 12, "cutoff": 8.0, "atom_features": "cgcnn",
                  "three_body_neighbors": 6},
        "model": {"hidden": 128, "embedding": 64, "alignn_layers": 2, "gcn_layers": 1,
                  "line_graph_dim": 32, "norm": "layer", "output_activation": "softplus"},
        "training": {"loss": "mae", "lr": 1e-3, "batch_size": 32, "weight_decay": 1e-4},
    },
    # smallest useful network, for tests and smoke runs
    "tiny": {
        "graph": {"neighbors": 8, "cutoff": 6.0, "atom_features": "attr5",
                  "three_body_neighbors": 4},
        "model": {"hidden": 16, "embedding": 8, "alignn_layers": 1, "gcn_layers": 1,
                  "line_graph_dim": 8, "edge_bins": 16, "angle_bins": 8, "norm": "layer",
                  "output_activation": "softplus"},
        "training": {"loss": "mse", "lr": 3e-3, "batch_size": 8, "weight_decay": 0.0},
    },
}

# Xtal2DoS (Bai et al., 2023): UniMP encoder (3 TransformerConv layers) + transformer decoder
# over bins attending to atoms, softmax output on unit-sum spectra, KL loss, dropout 0.1 (without
# it the MP run overfits: validation protocol MAE 0.00751 against 0.00664). The same preset
# serves the phDOS (51 points, 0..1000 cm^-1) and eDOS (128 points, -4..4 eV) grids: the grid is
# the data set's. Decoder ablations: override model.decoder with gru, gru_attention, chunk_gru.
PRESETS["xtal2dos"] = {
    "model_class": "Xtal2DoS",
    "graph": {"neighbors": 12, "cutoff": 8.0, "atom_features": "cgcnn", "line_graph": False},
    "model": {"hidden": 128, "heads": 4, "encoder_layers": 3, "decoder": "transformer",
              "decoder_layers": 2, "position": "learned", "causal": False,
              "composition": True, "output_activation": "softmax", "dropout": 0.1},
    "training": {"loss": "kl", "lr": 1e-3, "batch_size": 32, "weight_decay": 1e-4},
    "normalization": "sum",
}
PRESETS["xtal2dos-tiny"] = {
    **PRESETS["xtal2dos"],
    "graph": {"neighbors": 8, "cutoff": 6.0, "atom_features": "attr5", "line_graph": False},
    "model": {**PRESETS["xtal2dos"]["model"], "hidden": 16, "heads": 2, "encoder_layers": 1,
              "decoder_layers": 1, "edge_bins": 12, "dropout": 0.0},
    "training": {"loss": "kl", "lr": 3e-3, "batch_size": 8, "weight_decay": 0.0},
}

# the first bundled models' size: 3 + 3 layers and a hidden head layer (about 2x slower)
PRESETS["fast-wide"] = {**PRESETS["fast"],
                        "model": {**PRESETS["fast"]["model"], "alignn_layers": 3,
                                  "gcn_layers": 3, "head_hidden": [128]}}


def get_preset(name: str) -> dict[str, Any]:
    """A deep copy of a preset (safe to modify); ``model_class`` defaults to ALIGNNDOS."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return {"model_class": "ALIGNNDOS", **copy.deepcopy(PRESETS[name])}
