"""Dynamical stability from universal-potential summaries: the bundled ``stability-uip``
classifier (boosted trees on :func:`crystaldos.graphs.uip.uip_crystal_summary`).

Trained on the JARVIS phonon benchmark's train materials, where unstable means more than 10 %
of the modes of the JARVIS DFT phonon DOS are imaginary; its card (``classifier.json``) records
the command, the threshold chosen on train and the validation figures. Needs the potentials of
the reference extra (``pip install 'crystaldos[reference]'``), not scikit-learn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
ROW_COLUMNS = {"id": "str", "formula": "str", "unstable_probability": "float", "unstable": "bool"}


@dataclass(frozen=True)
class StabilityClassifier:
    """``potentials``: the summaries concatenated, in order; ``threshold``: probability at or
    above which a crystal is called unstable."""

    trees: BoostedTrees
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
        return cls(BoostedTrees.load(folder / TREES_NAME), tuple(card["potentials"]),
                   float(card["threshold"]), card)

    def save(self, directory: str | Path) -> None:
        from crystaldos.safe_io import atomic_write_text

        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        self.trees.save(folder / TREES_NAME)
        card = {**self.card, "potentials": list(self.potentials), "threshold": self.threshold}
        atomic_write_text(folder / CARD_NAME, json.dumps(card, indent=1) + "\n")

    def features(self, crystal: Crystal) -> np.ndarray:
        """(d,) the summaries of ``crystal`` by each potential, side by side."""
        from crystaldos.graphs.uip import uip_crystal_summary

        return np.concatenate([uip_crystal_summary(crystal, p) for p in self.potentials])

    def unstable_probability(self, crystal: Crystal) -> float:
        return float(self.trees.probability(self.features(crystal)[None, :])[0])

    def row(self, crystal: Crystal) -> dict[str, Any]:
        """One output row: id, formula, unstable_probability and the call at the threshold."""
        p = self.unstable_probability(crystal)
        return {"id": crystal.id, "formula": crystal.formula, "unstable_probability": round(p, 4),
                "unstable": p >= self.threshold}
