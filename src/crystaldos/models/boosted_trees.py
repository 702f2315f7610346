"""Gradient-boosted trees evaluated with numpy: bundled binary classifiers and regressors that
need no scikit-learn (and no pickle) at prediction time.

Trained with scikit-learn's ``HistGradientBoostingClassifier`` (binary) or
``HistGradientBoostingRegressor`` on numeric features, exported once with
:meth:`BoostedTrees.from_sklearn`, stored as one ``.npz`` of plain arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError


@dataclass(frozen=True)
class BoostedTrees:
    """All trees' nodes in flat arrays; ``roots[t]`` is tree t's first node.

    A sample at a split node goes left when its ``feature`` value is at most ``threshold``,
    or when it is NaN and ``missing_left`` is set. The decision value is ``baseline`` plus the
    ``value`` of the leaf reached in every tree: the log-odds of the positive class for a
    classifier, the prediction itself for a regressor.
    """

    baseline: float
    roots: np.ndarray  # (T,) int64
    feature: np.ndarray  # (nodes,) int64
    threshold: np.ndarray  # (nodes,) float64
    missing_left: np.ndarray  # (nodes,) bool
    left: np.ndarray  # (nodes,) int64, global index
    right: np.ndarray  # (nodes,) int64, global index
    is_leaf: np.ndarray  # (nodes,) bool
    value: np.ndarray  # (nodes,) float64
    n_features: int

    @classmethod
    def from_sklearn(cls, model: Any) -> BoostedTrees:
        """Export a fitted binary ``HistGradientBoostingClassifier`` or a
        ``HistGradientBoostingRegressor`` (numeric features only)."""
        if model.n_trees_per_iteration_ != 1:
            raise CrystalDosError("only binary classifiers and regressors can be exported")
        trees = [per_class[0] for per_class in model._predictors]
        roots, parts, offset = [], [], 0
        for tree in trees:
            nodes = tree.nodes
            if np.any(nodes["is_categorical"]):
                raise CrystalDosError("categorical splits cannot be exported")
            roots.append(offset)
            parts.append((nodes, offset))
            offset += len(nodes)
        cat = np.concatenate

        def shifted(field: str) -> np.ndarray:
            return cat([n[field].astype(np.int64) + off for n, off in parts])

        return cls(baseline=float(np.ravel(model._baseline_prediction)[0]),
                   roots=np.asarray(roots, dtype=np.int64),
                   feature=cat([n["feature_idx"] for n, _ in parts]).astype(np.int64),
                   threshold=cat([n["num_threshold"] for n, _ in parts]).astype(np.float64),
                   missing_left=cat([n["missing_go_to_left"] for n, _ in parts]).astype(bool),
                   left=shifted("left"), right=shifted("right"),
                   is_leaf=cat([n["is_leaf"] for n, _ in parts]).astype(bool),
                   value=cat([n["value"] for n, _ in parts]).astype(np.float64),
                   n_features=int(model.n_features_in_))

    def decision(self, x: np.ndarray) -> np.ndarray:
        """(n,) log-odds (a classifier) or predictions (a regressor) of (n, n_features)
        samples."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise CrystalDosError(f"the trees read {self.n_features} features per sample, "
                                  f"got an array of shape {x.shape}")
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()  # (n, T)
        rows = np.arange(len(x))[:, None]
        while True:
            active = ~self.is_leaf[node]
            if not active.any():
                break
            values = x[rows, self.feature[node]]
            go_left = np.where(np.isnan(values), self.missing_left[node],
                               values <= self.threshold[node])
            node = np.where(active, np.where(go_left, self.left[node], self.right[node]), node)
        return self.baseline + self.value[node].sum(axis=1)

    def probability(self, x: np.ndarray) -> np.ndarray:
        """(n,) probability of the positive class."""
        return 1.0 / (1.0 + np.exp(-self.decision(x)))

    def save(self, path: str | Path) -> None:
        from crystaldos.safe_io import atomic_target

        with atomic_target(path) as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, **{k: np.asarray(v) for k, v in self.__dict__.items()})

    @classmethod
    def load(cls, path: str | Path) -> BoostedTrees:
        try:
            with np.load(path) as stored:
                fields = {k: stored[k] for k in stored.files}
        except (OSError, ValueError) as err:
            raise CrystalDosError(f"{path}: cannot read boosted trees ({err})") from None
        return cls(baseline=float(fields.pop("baseline")),
                   n_features=int(fields.pop("n_features")), **fields)
