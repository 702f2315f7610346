"""An ASE calculator whose forces (and local DOS) come from TinyNet on the moments embedding.

Only forces and the per-atom local DOS are available: TinyNet predicts forces directly, so there
is no potential energy, and ASE raises ``PropertyNotImplementedError`` if one is asked for.
Velocity-Verlet and Langevin dynamics need forces only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from ase.calculators.calculator import Calculator, all_changes

from crystaldos.errors import StructureError
from crystaldos.models.tinynet import TinyNetBundle
from crystaldos.structures.readers import from_ase


class TinyNetCalculator(Calculator):
    """ASE calculator: ``forces`` (N, 3) eV/Å and ``ldos`` (N, G) states/eV per atom on
    ``self.grid`` (eV relative to the midgap), from a trained TinyNet.

    ``model``: a loaded bundle, a bundled TinyNet name, or a TinyNet file.
    ``zero_net_force``: subtract the mean force so that the total force is zero and MD conserves
    momentum (a directly predicted force field does not guarantee it).
    """

    implemented_properties: ClassVar[list[str]] = ["forces", "ldos"]

    def __init__(self, model: TinyNetBundle | str | Path, *, zero_net_force: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(model, TinyNetBundle):
            self.bundle = model
        else:
            from crystaldos.pretrained.tinynet import load_pretrained_tinynet

            self.bundle = load_pretrained_tinynet(model)
        self.bundle.model.eval()
        self.zero_net_force = zero_net_force

    @property
    def grid(self) -> np.ndarray:
        return self.bundle.grid

    def calculate(self, atoms: Any = None, properties: Any = ("forces",),
                  system_changes: Any = all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        crystal = from_ase(self.atoms, validate=False)
        if not all(self.atoms.pbc):
            raise StructureError(crystal.source, "TinyNetCalculator needs a periodic cell")
        x = torch.as_tensor(self.bundle.embedding(crystal), dtype=torch.float32)
        with torch.no_grad():
            ldos, forces = self.bundle.model(x, torch.as_tensor(crystal.numbers))
        forces = forces.double().numpy()
        if self.zero_net_force:
            forces = forces - forces.mean(axis=0)
        self.results["forces"] = forces
        self.results["ldos"] = ldos.clamp_min(0).double().numpy()
