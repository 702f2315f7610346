"""Atom features from a universal interatomic potential, appended to the element table.

Universal potentials were trained on millions of DFT forces; their per-atom embeddings encode
the bonding (stiffness, coordination) that a phonon DOS measures. ``chgnet``: the 64 atom
features CHGNet 0.3/0.4 computes before its energy head (``return_atom_feas``), with the
pretrained weights that ship inside the ``chgnet`` wheel (offline); ``sevennet``: the 128 scalar
node features of SevenNet-0's last interaction block, where its energy readout starts (weights
inside the ``sevenn`` wheel). Frozen: the features are
computed once per structure when its graph is built (and cached with it).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from functools import cache
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError, StructureError
from crystaldos.structures.crystal import Crystal

#: width of each potential's atom features.
UIP_WIDTHS = {"chgnet": 64, "sevennet": 128}

#: GPa per eV/Å^3 (ASE stresses to CHGNet's unit).
GPA_PER_EV_A3 = 160.21766


@cache
def _chgnet() -> Any:
    try:
        from chgnet.model import CHGNet
    except ImportError:
        raise CrystalDosError("CHGNet (its atom features, read by this model) needs the "
                              "chgnet package: pip install 'crystaldos[reference]'") from None
    with contextlib.redirect_stdout(io.StringIO()):  # it announces itself even when quiet
        return CHGNet.load(verbose=False)


#: CHGNet's elements: atomic numbers 1 (H) to 94 (Pu), the width of its atom embedding
CHGNET_MAX_Z = 94


class _SevenNet:
    """SevenNet-0 (weights inside the ``sevenn`` wheel) with its last interaction's 128 scalar
    node features caught on their way into the energy readout."""

    def __init__(self) -> None:
        try:
            import sevenn._keys as keys
            from sevenn.calculator import SevenNetCalculator
        except ImportError:
            raise CrystalDosError("SevenNet atom features need the sevenn package: "
                                  "pip install 'crystaldos[reference]'") from None
        self.calculator = SevenNetCalculator("7net-0", device="cpu")
        self.caught: dict[str, np.ndarray] = {}

        def catch(_module: Any, inputs: tuple) -> None:
            self.caught["atom_fea"] = inputs[0][keys.NODE_FEATURE].detach().cpu().numpy()

        readout = self.calculator.model._modules["reduce_input_to_hidden"]
        readout.register_forward_pre_hook(catch)

    def __call__(self, crystal: Crystal) -> dict[str, Any]:
        atoms = crystal.to_ase()
        atoms.calc = self.calculator
        voigt = np.asarray(atoms.get_stress(), dtype=np.float64)  # eV/Å^3: xx yy zz yz xz xy
        xx, yy, zz, yz, xz, xy = voigt * GPA_PER_EV_A3
        return {"atom_fea": self.caught["atom_fea"].copy(),
                "e": float(atoms.get_potential_energy()) / crystal.n_atoms,
                "f": np.asarray(atoms.get_forces(), dtype=np.float64),
                "s": np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]]),
                "m": None}


@cache
def _sevennet() -> _SevenNet:
    return _SevenNet()


def _uip_call(crystal: Crystal, name: str, task: str) -> dict[str, Any]:
    """One pretrained-potential call on ``crystal``: atom features (``atom_fea``), energy per
    atom (``e``, eV), forces (``f``, eV/Å), stress (``s``, GPa, CHGNet's sign) and magnetic
    moments (``m``, μB, None for SevenNet) as far as ``task`` asks (CHGNet's letters)."""
    if name not in UIP_WIDTHS:
        raise CrystalDosError(f"unknown potential features {name!r}; choose from "
                              f"{sorted(UIP_WIDTHS)}")
    model = _chgnet() if name == "chgnet" else _sevennet()
    known = set(range(1, CHGNET_MAX_Z + 1)) if name == "chgnet" else set(model.calculator.type_map)
    unknown = sorted({s for s, z in zip(crystal.species, crystal.numbers, strict=True)
                      if int(z) not in known})
    if unknown:
        raise StructureError(crystal.source or crystal.id,
                             f"{name} was not trained on {', '.join(unknown)}: no summary")
    try:
        if name == "chgnet":
            from pymatgen.io.ase import AseAtomsAdaptor

            structure = AseAtomsAdaptor.get_structure(crystal.to_ase())
            with warnings.catch_warnings():  # CHGNet 0.3 warns on every volume it reads
                warnings.filterwarnings("ignore",
                                        message="Converting a tensor with requires_grad")
                out = model.predict_structure(structure, task=task, return_atom_feas=True)
        else:
            out = model(crystal)
    except CrystalDosError:
        raise
    except Exception as err:  # the potential refuses this structure (isolated atoms...)
        raise StructureError(crystal.source or crystal.id,
                             f"{name} cannot compute it: {err}") from None
    features = np.asarray(out["atom_fea"], dtype=np.float32)
    if features.shape != (crystal.n_atoms, UIP_WIDTHS[name]):
        raise CrystalDosError(f"{crystal.source}: {name} gave atom features of shape "
                              f"{features.shape} for {crystal.n_atoms} atoms")
    out["atom_fea"] = features
    return out


def uip_atom_features(crystal: Crystal, name: str) -> np.ndarray:
    """(N, width) float32 atom features of ``crystal`` from potential ``name``."""
    return _uip_call(crystal, name, "e")["atom_fea"]


#: potentials that predict magnetic moments (their summaries hold ``mean_abs_magmom_muB``).
PREDICTS_MOMENTS = frozenset({"chgnet"})


#: how :func:`uip_crystal_summary` pools the atom features, in order
SUMMARY_POOLS = ("mean", "max", "min", "std")


def summary_globals(name: str) -> tuple[str, ...]:
    """Names of the last entries of :func:`uip_crystal_summary` (after the pooled features)."""
    moments = ("mean_abs_magmom_muB",) if name in PREDICTS_MOMENTS else ()
    return ("energy_eV_per_atom", "max_force_eV_per_A", "mean_force_eV_per_A", "pressure_GPa",
            "von_mises_stress_GPa", *moments, "n_atoms", "volume_A3_per_atom")


def uip_crystal_summary(crystal: Crystal, name: str) -> np.ndarray:
    """(4 * width + len(summary_globals(name)),) float64 description of ``crystal`` by the
    potential at its given geometry, from one call: the atom features pooled by mean, max, min
    and standard deviation, then :func:`summary_globals` (energy, residual forces and stress
    say how far the structure is from the potential's equilibrium, which dynamical
    instabilities correlate with; the mean magnetic moment where the potential predicts one)."""
    out = _uip_call(crystal, name, "efsm")
    feas = out["atom_fea"].astype(np.float64)
    forces = np.linalg.norm(np.asarray(out["f"], dtype=np.float64), axis=1)
    stress = np.asarray(out["s"], dtype=np.float64).reshape(3, 3)  # GPa
    pressure = float(np.trace(stress)) / 3.0
    deviatoric = stress - pressure * np.eye(3)
    moments = [float(np.mean(np.abs(out["m"])))] if name in PREDICTS_MOMENTS else []
    globals_ = [float(out["e"]), forces.max(), forces.mean(), pressure,
                float(np.sqrt(1.5 * np.sum(deviatoric ** 2))), *moments,
                float(crystal.n_atoms), crystal.volume / crystal.n_atoms]
    pools = {"mean": feas.mean(0), "max": feas.max(0), "min": feas.min(0), "std": feas.std(0)}
    return np.concatenate([*(pools[name] for name in SUMMARY_POOLS), np.asarray(globals_)])
