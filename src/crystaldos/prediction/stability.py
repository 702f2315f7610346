"""Dynamical stability from universal-potential summaries: the bundled ``stability-uip``
classifier (boosted trees on :func:`crystaldos.graphs.uip.uip_crystal_summary`).

Trained on the JARVIS phonon benchmark's train materials, where unstable means more than 10 %
of the modes of the JARVIS DFT phonon DOS are imaginary; its card (``classifier.json``) records
the command, the threshold chosen on train and the validation figures. Needs the potentials of
the reference extra (``pip install 'crystaldos[reference]'``), not scikit-learn.

The members' mean probability of boosted trees is no probability a user can read: on JARVIS
validation the materials it gave 0.05-0.2 were 50 % unstable. A card with a ``calibration``
maps it through Platt scaling (a logistic function of its log-odds, fitted on the train
out-of-fold probabilities that chose the threshold); the map rises strictly, so the calls at
the threshold (stored on the calibrated scale) are those of the raw probability.
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

CLASSIFIER_DIR = Path(__file__).resolve().parents[1] / "pretrained" / "stability-uip"
CARD_NAME = "classifier.json"
TREES_NAME = "trees.npz"
#: the columns of :meth:`StabilityClassifier.row`, with their types (for
#: :func:`crystaldos.prediction.writers.open_writer`).
ROW_COLUMNS = {"id": "str", "formula": "str", "unstable_probability": "float", "unstable": "bool",
               "ood_score": "float", "note": "str"}


def member_file(k: int, members: int) -> str:
    """The trees file of member ``k`` of ``members``: ``trees.npz`` for a single one."""
    return TREES_NAME if members == 1 else f"trees-{k}.npz"


def platt(p: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    """Platt scaling of probabilities ``p`` (n,): sigmoid(slope * logit(p) + intercept), with
    ``p`` clipped to [1e-6, 1 - 1e-6]; strictly rising for a positive ``slope``."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return 1.0 / (1.0 + np.exp(-(slope * np.log(q / (1 - q)) + intercept)))


@dataclass(frozen=True)
class StabilityClassifier:
    """``members``: sets of trees whose probabilities are averaged (one, or the models of the
    cross-validation folds whose out-of-fold probabilities chose the threshold);
    ``potentials``: the summaries concatenated, in order; ``threshold``: probability (of
    :meth:`probability`, calibrated where the card says so) at or above which a crystal is
    called unstable."""

    members: tuple[BoostedTrees, ...]
    potentials: tuple[str, ...]
    threshold: float
    card: dict[str, Any]

    @classmethod
    def load(cls, directory: str | Path | None = None) -> StabilityClassifier:
        folder = Path(directory) if directory is not None else CLASSIFIER_DIR
        try:
            card = json.loads((folder / CARD_NAME).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise CrystalDosError(f"{folder / CARD_NAME}: cannot read the stability "
                                  f"classifier's card ({err})") from None
        count = int(card.get("members", 1))
        members = tuple(BoostedTrees.load(folder / member_file(k, count)) for k in range(count))
        return cls(members, tuple(card["potentials"]), float(card["threshold"]), card)

    def save(self, directory: str | Path) -> None:
        from crystaldos.safe_io import atomic_write_text

        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("trees*.npz"):
            old.unlink()
        for k, trees in enumerate(self.members):
            trees.save(folder / member_file(k, len(self.members)))
        card = {**self.card, "potentials": list(self.potentials), "threshold": self.threshold,
                "members": len(self.members)}
        atomic_write_text(folder / CARD_NAME, json.dumps(card, indent=1) + "\n")

    @property
    def n_features(self) -> int:
        return self.members[0].n_features

    def features(self, crystal: Crystal) -> np.ndarray:
        """(d,) the summaries of ``crystal`` by each potential, side by side."""
        from crystaldos.graphs.uip import uip_crystal_summary

        return np.concatenate([uip_crystal_summary(crystal, p) for p in self.potentials])

    def probability(self, x: np.ndarray) -> np.ndarray:
        """(n,) probability of unstable for summaries (n, d): the members' mean, through the
        card's calibration when it has one."""
        mean = np.mean([trees.probability(x) for trees in self.members], axis=0)
        calibration = self.card.get("calibration")
        return mean if calibration is None else platt(mean, calibration["slope"],
                                                      calibration["intercept"])

    def unstable_probability(self, crystal: Crystal) -> float:
        return float(self.probability(self.features(crystal)[None, :])[0])

    @cached_property
    def _composition_distance(self) -> Any:
        from crystaldos.models.domain import CompositionDistance

        return CompositionDistance(self.card.get("domain"))

    def ood_score(self, crystal: Crystal) -> float | None:
        """Composition distance to the training materials
        (:class:`crystaldos.models.domain.CompositionDistance`: 0 seen, about 1 typical new,
        well above 1 far); None for a card without a domain."""
        return self._composition_distance(crystal)

    def notes(self, crystal: Crystal) -> list[str]:
        """What a user should know before trusting the call: elements never seen in training."""
        from crystaldos.models.domain import unseen_elements_note

        unseen = unseen_elements_note(crystal, self.card.get("domain"), "call")
        return [unseen] if unseen else []

    def row(self, crystal: Crystal) -> dict[str, Any]:
        """One output row: id, formula, unstable_probability, the call at the threshold, the
        out-of-domain score and the notes ("; "-joined)."""
        p = self.unstable_probability(crystal)
        ood = self.ood_score(crystal)
        return {"id": crystal.id, "formula": crystal.formula, "unstable_probability": round(p, 4),
                "unstable": p >= self.threshold,
                "ood_score": None if ood is None else round(ood, 4),
                "note": "; ".join(self.notes(crystal))}
