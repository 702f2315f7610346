"""Bonding-aware per-atom embeddings (the moments-theorem embedding)."""

from crystaldos.embeddings.moments import (
    MomentsEmbedding,
    bonded_pairs,
    closed_walk_sums,
    simple_cycle_sums,
)

__all__ = ["MomentsEmbedding", "bonded_pairs", "closed_walk_sums", "simple_cycle_sums"]
