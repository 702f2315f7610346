"""Atom features from a universal interatomic potential, appended to the element table.

Universal potentials were trained on millions of DFT forces; their per-atom embeddings encode
the bonding (stiffness, coordination) that a phonon DOS measures. ``chgnet``: the 64 atom
features CHGNet 0.3/0.4 computes before its energy head (``return_atom_feas``), with the
pretrained weights that ship inside the ``chgnet`` wheel (offline). Frozen: the features are
computed once per structure when its graph is built (and cached with it).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.structures.crystal import Crystal

#: width of each potential's atom features.
UIP_WIDTHS = {"chgnet": 64}


@cache
def _chgnet() -> Any:
    try:
        from chgnet.model import CHGNet
    except ImportError:
        raise CrystalDosError("CHGNet atom features need the chgnet package: "
                              "pip install 'crystaldos[reference]'") from None
    return CHGNet.load(verbose=False)


def uip_atom_features(crystal: Crystal, name: str) -> np.ndarray:
    """(N, width) float32 atom features of ``crystal`` from potential ``name``."""
    if name != "chgnet":
        raise CrystalDosError(f"unknown potential features {name!r}; choose from "
                              f"{sorted(UIP_WIDTHS)}")
    from pymatgen.io.ase import AseAtomsAdaptor

    structure = AseAtomsAdaptor.get_structure(crystal.to_ase())
    out = _chgnet().predict_structure(structure, task="e", return_atom_feas=True)
    features = np.asarray(out["atom_fea"], dtype=np.float32)
    if features.shape != (crystal.n_atoms, UIP_WIDTHS[name]):
        raise CrystalDosError(f"{crystal.source}: CHGNet gave atom features of shape "
                              f"{features.shape} for {crystal.n_atoms} atoms")
    return features
