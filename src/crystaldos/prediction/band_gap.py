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
        return cls(BoostedTrees.load(folder / METAL_TREES), BoostedTrees.load(folder / GAP_TREES),
                   float(card["threshold"]), card)

    def save(self, directory: str | Path) -> None:
        from crystaldos.safe_io import atomic_write_text

        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        self.metal.save(folder / METAL_TREES)
        self.gap.save(folder / GAP_TREES)
        atomic_write_text(folder / CARD_NAME,
                          json.dumps({**self.card, "threshold": self.threshold}, indent=1) + "\n")

    def digest(self) -> str:
        """sha256 over every array of both sets of trees and the threshold: what rows made
        with them depend on."""
        import hashlib

        h = hashlib.sha256(repr((self.threshold, self.uip)).encode())
        for trees in (self.metal, self.gap):
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

    def head_values(self, crystal: Crystal) -> dict[str, float]:
        """The head columns of a prediction row (``metal_probability``,
        ``band_gap_direct_eV``) for one crystal."""
        probability, gap = self.predict([crystal])
        return {"band_gap_direct_eV": round(float(gap[0]), 4),
                "metal_probability": round(float(probability[0]), 4)}

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
        from crystaldos.models.domain import unseen_elements
        from crystaldos.models.electronic_heads import metallicity_note

        out = []
        unseen = unseen_elements(crystal, self.card.get("domain"))
        if unseen:
            out.append(f"element{'s' if len(unseen) > 1 else ''} {', '.join(unseen)} never "
                       "seen in training: the call is an extrapolation")
        note = metallicity_note(crystal.species, probability)
        return out + ([note] if note else [])

    def row(self, crystal: Crystal) -> dict[str, Any]:
        """One output row of ``crystaldos gap``: id, formula, metal probability, the call at
        the threshold, the gap (eV), the out-of-domain score and the notes (``; ``-joined)."""
        probability, gap = self.predict([crystal])
        p = float(probability[0])
        score = self.ood_score(crystal)
        return {"id": crystal.id, "formula": crystal.formula,
                "metal_probability": round(p, 4), "metal": bool(p >= self.threshold),
                "band_gap_eV": round(float(gap[0]), 4),
                "ood_score": None if score is None else round(score, 3),
                "note": "; ".join(self.notes(crystal, p))}
