"""Direct band-gap and metallicity heads of an electronic DOS model.

A model built with ``n_scalars=2`` appends two raw outputs to its spectrum: ``gap_raw``, whose
softplus is the band gap in eV (0 for a metal), and ``metal_logit``, whose sigmoid is the
probability that the crystal is a metal. They read the same pooled state as the spectrum, so
the DOS and both heads are trained together (multi-task). A DOS-derived gap needs the
spectrum to be empty exactly at E_F, which a regression smears; the heads answer directly.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional

#: the scalar outputs, in order, and the record ``meta`` keys their targets come from
HEAD_NAMES = ("band_gap", "is_metal")
N_HEADS = len(HEAD_NAMES)
#: row columns of the heads' predictions (prediction.pipeline), name -> type
HEAD_COLUMNS = {"band_gap_direct_eV": "float", "metal_probability": "float"}


def model_heads(model: nn.Module) -> int:
    """How many scalar outputs follow the spectrum (a DeepEnsemble: its members')."""
    members = getattr(model, "members", None)
    return int(getattr(members[0] if members is not None else model, "n_scalars", 0))


def head_values(raw: np.ndarray) -> dict[str, float]:
    """The :data:`HEAD_COLUMNS` of one structure from raw heads (2,), or from an ensemble's
    members (M, 2): the members' mean gap and mean probability, with their standard deviations
    across members as ``<column>_std`` (uncalibrated)."""
    gap, probability = decode(raw)
    values = {"band_gap_direct_eV": float(np.mean(gap)),
              "metal_probability": float(np.mean(probability))}
    if np.ndim(raw) == 2:
        from crystaldos.prediction.schema import std_column

        values[std_column("band_gap_direct_eV")] = float(np.std(gap))
        values[std_column("metal_probability")] = float(np.std(probability))
    return values


def split_outputs(values: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(spectrum (..., n_out), raw scalars (..., k) or None) of a model's raw output."""
    if values.shape[-1] == n_out:
        return values, None
    return values[..., :n_out], values[..., n_out:]


def decode(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(band gap eV, metal probability) from raw head outputs (..., 2)."""
    raw = np.asarray(raw, dtype=np.float64)
    gap = np.logaddexp(0.0, raw[..., 0])  # softplus
    probability = 1.0 / (1.0 + np.exp(-raw[..., 1]))
    return gap, probability


def metallicity_note(species: list[str] | tuple[str, ...], probability: float) -> str | None:
    """A note when the metal probability of a row (> 0.5 = metal; a network head's or the gap
    trees') contradicts the composition charge rule
    (:func:`crystaldos.evaluation.baselines.charge_rule_says_metal`), else None. The bundled
    pbe-edos v6 (its gap-trees-uip) overrides the rule on 28 of the DFT set's 71 test materials
    and is right on 24; on the 50 larger JARVIS cells it overrides 13 times and is right 3 times
    (``benchmarks/edos_dft.py``, ``charge_rule_overrides``), so a user should look twice."""
    from crystaldos.evaluation.baselines import charge_rule_says_metal

    rule = charge_rule_says_metal(species)
    if (probability > 0.5) == rule:
        return None
    said, rule_said = ("a metal", "gapped") if probability > 0.5 else ("gapped", "a metal")
    return (f"metal probability says {said} (p = {probability:.2f}) where the composition "
            f"charge rule says {rule_said}: reliable only for cells like the model's training "
            "set")


def head_targets(meta: dict) -> np.ndarray:
    """(2,) float32 targets [gap eV, 1 if metal] from a record's ``meta`` (gap 0 for metals)."""
    metal = bool(meta["is_metal"])
    return np.array([0.0 if metal else float(meta["band_gap"]), float(metal)], dtype=np.float32)


def head_scores(gap: np.ndarray, probability: np.ndarray, true: np.ndarray,
                species: list) -> dict:
    """Gap MAE (eV; all materials and gapped only) and metal/gapped accuracy at probability 0.5
    of predicted gaps and metal probabilities (n,) against targets (n, 2) of
    :func:`head_targets`, beside the composition rule and the charge rule
    (:mod:`crystaldos.evaluation.baselines`) on the ``species`` of each material."""
    from crystaldos.evaluation.baselines import charge_rule_says_metal, composition_says_metal

    metal = true[:, 1] > 0.5
    error = np.abs(gap - true[:, 0])
    rule = np.array([composition_says_metal(s) for s in species])
    charge_rule = np.array([charge_rule_says_metal(s) for s in species])
    return {"n": len(true), "n_metals": int(metal.sum()),
            "gap_mae_eV": float(error.mean()),
            "gap_mae_gapped_eV": float(error[~metal].mean()) if (~metal).any() else None,
            "metal_accuracy": float(np.mean((probability > 0.5) == metal)),
            "composition_rule_accuracy": float(np.mean(rule == metal)),
            "charge_rule_accuracy": float(np.mean(charge_rule == metal))}


class ElectronicHeadLoss(nn.Module):
    """MAE of the gap (eV) plus binary cross-entropy of metallicity, over a batch."""

    def forward(self, raw: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        gap = functional.softplus(raw[:, 0])
        return (torch.mean(torch.abs(gap - target[:, 0]))
                + functional.binary_cross_entropy_with_logits(raw[:, 1], target[:, 1]))

    @staticmethod
    def metrics(raw: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """Gap MAE (eV) and metal/gapped accuracy at probability 0.5."""
        gap = functional.softplus(raw[:, 0])
        return {"gap_mae": torch.mean(torch.abs(gap - target[:, 0])),
                "metal_accuracy": torch.mean(((raw[:, 1] > 0).float() == target[:, 1]).float())}
