"""Deterministic train / val / test splits, saved as JSON next to any result that uses them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from crystaldos.datasets.base import SPLIT_NAMES, DOSDataset, canonical_split
from crystaldos.errors import DatasetError


def random_split(ids: Sequence[str], fractions: Sequence[float] = (0.8, 0.1, 0.1),
                 seed: int = 0) -> dict[str, list[str]]:
    """Seeded random split of ``ids`` into train / val / test.

    The result depends only on the set of ids, the fractions and the seed (ids are sorted before
    shuffling), never on input order. Sizes: val and test are ``round(f * n)``, train the rest.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError("fractions must be three non-negative numbers summing to 1")
    unique = sorted(set(map(str, ids)))
    if len(unique) != len(ids):
        raise ValueError("ids must be unique")
    order = np.random.default_rng(seed).permutation(len(unique))
    n_val = round(fractions[1] * len(unique))
    n_test = round(fractions[2] * len(unique))
    shuffled = [unique[k] for k in order]
    return {"train": shuffled[n_val + n_test:], "val": shuffled[:n_val],
            "test": shuffled[n_val:n_val + n_test]}


def save_splits(splits: dict[str, list[str]], path: str | Path, **meta: object) -> Path:
    """Write ``{"train": [...], "val": [...], "test": [...], "meta": {...}}`` as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**{k: list(v) for k, v in splits.items()}, "meta": meta},
                               indent=1))
    return path


def load_splits(path: str | Path) -> dict[str, list[str]]:
    """Read a split file (``valid`` is accepted for ``val``); ids are strings."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(str(path), f"cannot read split file: {exc}") from None
    out = {canonical_split(k): [str(i) for i in v] for k, v in data.items() if k != "meta"}
    unknown = set(out) - set(SPLIT_NAMES)
    if unknown:
        raise DatasetError(str(path), f"unknown split names {sorted(unknown)}")
    return out


def apply_splits(dataset: DOSDataset, splits: dict[str, list[str]]) -> DOSDataset:
    """Set each record's split from id lists (records not listed get split None)."""
    where = {i: name for name, ids in splits.items() for i in ids}
    for rec in dataset.records:
        rec.split = where.get(rec.id)
    return dataset
