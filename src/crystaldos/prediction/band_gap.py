"""Metallicity and band gap from composition and cell descriptors: the bundled ``gap-trees``.

Two sets of boosted trees on :func:`crystaldos.structures.descriptors.descriptor_matrix`,
fitted on the GPAW PBE eDOS set (``scripts/make_dft_edos.py --assemble``): a classifier of
metal against gapped, and a regressor of the gap (eV, fitted on gapped materials only). A
crystal whose metal probability reaches the threshold gets gap 0. Trees whose card names a
universal potential (``"uip": "chgnet"``) also read that potential's summary of the crystal
(one potential call per crystal; needs the reference extra), the others need no graph and no
potential; none needs scikit-learn at prediction time. The electronic DOS models whose card
names ``gap_trees`` take their ``metal_probability`` and ``band_gap_direct_eV`` columns from
them.
A tree set may also carry gap intervals (:meth:`GapTrees.with_intervals`): quantile trees fitted
on every training crystal (metals at gap 0, so the interval of a likely metal reaches 0),
widened by split-conformal corrections from out-of-fold residuals so that the 68 % and 95 %
intervals cover those shares of the training materials out of fold.
The card (``trees.json``) records the command, the training data, the validation figures and
the training ``domain`` (:func:`crystaldos.models.domain.training_domain`), from which each row
of :meth:`GapTrees.row` gets an out-of-domain score and a note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.models.boosted_trees import BoostedTrees
from crystaldos.structures.crystal import Crystal

GAP_TREES_DIR = Path(__file__).resolve().parents[1] / "pretrained" / "gap-trees"
CARD_NAME = "trees.json"  # not card.json: that would list the folder as a DOS model
METAL_TREES = "metal.npz"
GAP_TREES = "gap.npz"
#: the columns of :meth:`GapTrees.row`, with their types (for
#: :func:`crystaldos.prediction.writers.open_writer`).
ROW_COLUMNS = {"id": "str", "formula": "str", "metal_probability": "float", "metal": "bool",
               "band_gap_eV": "float", "ood_score": "float", "note": "str"}
#: the tree settings (scikit-learn ``HistGradientBoosting*`` arguments) of :meth:`GapTrees.fit`
DEFAULT_SETTINGS: dict[str, Any] = {"random_state": 0}
#: central interval levels of :meth:`GapTrees.with_intervals`, and their columns (low, high)
INTERVAL_LEVELS = (0.68, 0.95)


def interval_columns(level: float) -> tuple[str, str]:
    """The (low, high) row columns of the central ``level`` gap interval, eV."""
    percent = round(level * 100)
    return f"band_gap_low{percent}_eV", f"band_gap_high{percent}_eV"


def level_quantiles(level: float) -> tuple[float, float]:
    """The (low, high) quantiles of the central ``level`` interval, rounded as stored."""
    return round((1 - level) / 2, 4), round((1 + level) / 2, 4)


def quantile_file(q: float) -> str:
    """The file of the quantile-``q`` gap trees in a tree set's folder."""
    return f"gap_q{q:.3f}.npz"


def conformal_correction(low: np.ndarray, high: np.ndarray, y: np.ndarray, level: float
                         ) -> float:
    """Split-conformal widening (eV) of intervals [low, high] so that they cover ``level`` of
    ``y`` (Romano et al. 2019): the ceil((n + 1) level)-th smallest conformity score
    max(low - y, y - high); negative when the intervals are too wide."""
    scores = np.sort(np.maximum(low - y, y - high))
    rank = min(int(np.ceil((len(y) + 1) * level)), len(y)) - 1
    return float(scores[rank])


def bundled_gap_trees() -> list[str]:
    """Names of the tree sets bundled with the package (folders with a ``trees.json``)."""
    return sorted(p.parent.name for p in GAP_TREES_DIR.parent.glob(f"*/{CARD_NAME}"))


def resolve_gap_trees(directory: str | Path | None) -> Path:
    """The folder of tree set ``directory``: None is the bundled ``gap-trees``; a bundled
    name is its folder in the package; anything else is taken as a path."""
    if directory is None:
        return GAP_TREES_DIR
    if str(directory) in bundled_gap_trees() and not Path(directory).is_absolute():
        return GAP_TREES_DIR.parent / str(directory)
    return Path(directory)


@dataclass(frozen=True)
class GapTrees:
    """``metal``: classifier trees (log-odds of metal); ``gap``: regressor trees (eV);
    ``threshold``: metal probability at or above which a crystal is a metal (gap 0); the
    card's ``uip``: the potential whose summary the descriptors include, or absent."""

    metal: BoostedTrees
    gap: BoostedTrees
    threshold: float
    card: dict[str, Any]
    #: quantile trees of the gap (metals at 0) at the card's ``interval.quantiles``, or ()
    quantiles: tuple[BoostedTrees, ...] = ()

    @classmethod
    def fit(cls, x: np.ndarray, is_metal: np.ndarray, gaps: np.ndarray,
            settings: dict[str, Any] | None = None, card: dict[str, Any] | None = None
            ) -> GapTrees:
        """Fit both sets of trees (needs scikit-learn) on descriptors (n, d)
        (:func:`crystaldos.structures.descriptors.descriptor_matrix`, with the potential the
        ``card`` names under ``uip``, if any), labels (n,) and gaps (n,) in eV (read for the
        gapped ones only)."""
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        metal = np.asarray(is_metal, dtype=bool)
        if metal.all() or not metal.any():
            raise CrystalDosError("gap trees need both metals and gapped crystals to learn from")
        kwargs = {**DEFAULT_SETTINGS, **(settings or {})}
        classifier = HistGradientBoostingClassifier(**kwargs).fit(x, metal)
        regressor = HistGradientBoostingRegressor(loss="absolute_error", **kwargs).fit(
            x[~metal], np.asarray(gaps, dtype=np.float64)[~metal])
        return cls(BoostedTrees.from_sklearn(classifier), BoostedTrees.from_sklearn(regressor),
                   0.5, {**(card or {}), "settings": kwargs})

    def with_intervals(self, x: np.ndarray, gaps: np.ndarray, folds: int = 5,
                       levels: tuple[float, ...] = INTERVAL_LEVELS) -> GapTrees:
        """These trees plus gap intervals (needs scikit-learn): for each central ``level``,
        quantile trees at (1 - level) / 2 and (1 + level) / 2 fitted on descriptors (n, d) and
        gaps (n,) of every crystal (0 for metals), with the settings of :meth:`fit`; the
        conformal correction of each level comes from ``folds``-fold out-of-fold intervals of
        the same trees (:func:`conformal_correction`)."""
        from sklearn.ensemble import HistGradientBoostingRegressor
        from sklearn.model_selection import KFold

        y = np.asarray(gaps, dtype=np.float64)
        settings = dict(self.card.get("settings", DEFAULT_SETTINGS))
        qs = sorted({q for level in levels for q in level_quantiles(level)})

        def fitted(rows: np.ndarray, q: float) -> Any:
            return HistGradientBoostingRegressor(loss="quantile", quantile=q,
                                                 **settings).fit(x[rows], y[rows])

        oof = np.zeros((len(qs), len(y)))
        split = KFold(folds, shuffle=True, random_state=0).split(x)
        for fit_rows, held in split:
            for i, q in enumerate(qs):
                oof[i, held] = fitted(fit_rows, q).predict(x[held])
        oof = np.sort(oof, axis=0)  # quantile trees may cross
        corrections = {}
        for level in levels:
            low, high = (qs.index(q) for q in level_quantiles(level))
            corrections[str(level)] = conformal_correction(oof[low], oof[high], y, level)
        everything = np.arange(len(y))
        trees = tuple(BoostedTrees.from_sklearn(fitted(everything, q)) for q in qs)
        interval = {"levels": list(levels), "quantiles": qs, "folds": folds,
                    "conformal_correction_eV": corrections}
        return GapTrees(self.metal, self.gap, self.threshold,
                        {**self.card, "interval": interval}, trees)

    def interval_columns(self) -> dict[str, str]:
        """The interval row columns these trees give (name -> type), none without quantiles."""
        if not self.quantiles:
            return {}
        return {c: "float" for level in self.card["interval"]["levels"]
                for c in interval_columns(level)}

    def predict_intervals(self, x: np.ndarray, gap: np.ndarray) -> dict[str, np.ndarray]:
        """Each interval column (n,) in eV from descriptors (n, d), widened to hold the point
        ``gap`` (n,) of :meth:`predict_descriptors`; {} without quantile trees."""
        if not self.quantiles:
            return {}
        interval = self.card["interval"]
        qs = [round(q, 4) for q in interval["quantiles"]]
        values = np.sort(np.stack([t.decision(x) for t in self.quantiles]), axis=0)
        out = {}
        for level in interval["levels"]:
            c = float(interval["conformal_correction_eV"][str(level)])
            low, high = (values[qs.index(q)] for q in level_quantiles(level))
            low, high = low - c, high + c
            low_col, high_col = interval_columns(level)
            out[low_col] = np.clip(np.minimum(low, gap), 0, None)
            out[high_col] = np.maximum(high, gap)
        return out

    @classmethod
    def load(cls, directory: str | Path | None = None) -> GapTrees:
        """The trees in ``directory``: a folder, or the name of a bundled set
        (:func:`bundled_gap_trees`); the default ``gap-trees`` when None."""
        folder = resolve_gap_trees(directory)
        if not folder.is_dir():
            raise CrystalDosError(f"{directory}: no such tree set; choose a bundled one "
                                  f"({', '.join(bundled_gap_trees())}) or a folder holding "
                                  f"{CARD_NAME}")
        try:
            card = json.loads((folder / CARD_NAME).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise CrystalDosError(f"{folder / CARD_NAME}: cannot read the gap trees' card "
                                  f"({err})") from None
        quantiles = tuple(BoostedTrees.load(folder / quantile_file(q))
                          for q in card.get("interval", {}).get("quantiles", ()))
        return cls(BoostedTrees.load(folder / METAL_TREES), BoostedTrees.load(folder / GAP_TREES),
                   float(card["threshold"]), card, quantiles)

    def save(self, directory: str | Path) -> None:
        from crystaldos.safe_io import atomic_write_text

        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        self.metal.save(folder / METAL_TREES)
        self.gap.save(folder / GAP_TREES)
        for q, trees in zip(self.card.get("interval", {}).get("quantiles", ()), self.quantiles,
                            strict=True):
            trees.save(folder / quantile_file(q))
        atomic_write_text(folder / CARD_NAME,
                          json.dumps({**self.card, "threshold": self.threshold}, indent=1) + "\n")

    def digest(self) -> str:
        """sha256 over every array of both sets of trees and the threshold: what rows made
        with them depend on."""
        import hashlib

        h = hashlib.sha256(repr((self.threshold, self.uip)).encode())
        if self.quantiles:
            h.update(repr(self.card["interval"]).encode())
        for trees in (self.metal, self.gap, *self.quantiles):
            for name, value in sorted(trees.__dict__.items()):
                h.update(name.encode())
                h.update(np.ascontiguousarray(value).tobytes())
        return h.hexdigest()

    @property
    def uip(self) -> str | None:
        """The universal potential whose crystal summary the trees read, or None."""
        return self.card.get("uip")

    def descriptors(self, crystals: list[Crystal]) -> np.ndarray:
        """(n, d) what the trees read of each crystal."""
        from crystaldos.structures.descriptors import descriptor_matrix

        return descriptor_matrix(crystals, self.uip)

    def predict(self, crystals: list[Crystal]) -> tuple[np.ndarray, np.ndarray]:
        """(metal probability (n,), band gap (n,) in eV, 0 for a predicted metal)."""
        if not crystals:
            return np.zeros(0), np.zeros(0)
        return self.predict_descriptors(self.descriptors(crystals))

    def predict_descriptors(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` from descriptors (n, d) already computed."""
        probability = self.metal.probability(x)
        gap = np.where(probability >= self.threshold, 0.0, np.clip(self.gap.decision(x), 0, None))
        return probability, gap

    def _one(self, crystal: Crystal) -> tuple[float, float, dict[str, float]]:
        """(metal probability, gap eV, the interval columns rounded to 4 digits) of one
        crystal, from one descriptor computation."""
        x = self.descriptors([crystal])
        probability, gap = self.predict_descriptors(x)
        intervals = {k: round(float(v[0]), 4) for k, v in self.predict_intervals(x, gap).items()}
        return float(probability[0]), float(gap[0]), intervals

    def head_values(self, crystal: Crystal) -> dict[str, float]:
        """The head columns of a prediction row (``metal_probability``,
        ``band_gap_direct_eV``, and the :meth:`interval_columns`) for one crystal."""
        p, gap, intervals = self._one(crystal)
        return {"band_gap_direct_eV": round(gap, 4), "metal_probability": round(p, 4),
                **intervals}

    def ood_score(self, crystal: Crystal) -> float | None:
        """Composition distance to the training materials
        (:class:`crystaldos.models.domain.CompositionDistance`: 0 seen, about 1 typical new,
        well above 1 far); None for a card without a domain."""
        return self._composition_distance(crystal)

    @cached_property
    def _composition_distance(self) -> Any:
        from crystaldos.models.domain import CompositionDistance

        return CompositionDistance(self.card.get("domain"))

    def notes(self, crystal: Crystal, probability: float) -> list[str]:
        """What a user should know before trusting this crystal's call: elements the trees
        never saw, a call against the composition charge rule."""
        from crystaldos.models.domain import unseen_elements_note
        from crystaldos.models.electronic_heads import metallicity_note

        unseen = unseen_elements_note(crystal, self.card.get("domain"), "call")
        out = [unseen] if unseen else []
        note = metallicity_note(crystal.species, probability)
        return out + ([note] if note else [])

    def row_columns(self) -> dict[str, str]:
        """The columns of :meth:`row` (name -> type): the intervals follow the gap."""
        head = dict(list(ROW_COLUMNS.items())[:list(ROW_COLUMNS).index("band_gap_eV") + 1])
        return {**head, **self.interval_columns(), **ROW_COLUMNS}

    def row(self, crystal: Crystal) -> dict[str, Any]:
        """One output row of ``crystaldos gap``: id, formula, metal probability, the call at
        the threshold, the gap (eV) and its intervals if the trees have them, the
        out-of-domain score and the notes (``; ``-joined)."""
        p, gap, intervals = self._one(crystal)
        score = self.ood_score(crystal)
        return {"id": crystal.id, "formula": crystal.formula,
                "metal_probability": round(p, 4), "metal": bool(p >= self.threshold),
                "band_gap_eV": round(gap, 4), **intervals,
                "ood_score": None if score is None else round(score, 3),
                "note": "; ".join(self.notes(crystal, p))}
