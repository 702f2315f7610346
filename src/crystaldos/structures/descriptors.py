"""Composition and cell descriptors of a crystal: a fixed-length vector for tree models.

No graph and no potential: element properties pooled over the atoms of the cell, the share of
atoms in each block and of metallic elements, whether oxidation states can balance the
formula and by how many electrons per atom it misses at best
(:func:`crystaldos.evaluation.baselines.charge_imbalance`, each oxidation-state table), whether the
cell and the formula unit hold an odd number of valence electrons, and the volume and packing
per atom. :func:`descriptor_names` names the entries of :func:`crystal_descriptors` in order.

The number of atoms or elements in the cell is left out on purpose: in the DFT eDOS set the
large cells come mostly from the phonon sets, which hold semiconductors only, so trees learn
"large => gapped" (``benchmarks/gap_trees.py`` measures it).
"""

from __future__ import annotations

from functools import cache, reduce
from math import gcd

import numpy as np

from crystaldos.elements import property_array
from crystaldos.structures.crystal import Crystal

#: element properties (:func:`crystaldos.elements.property_array`) pooled over the atoms
POOLED_PROPERTIES = ("electronegativity", "first_ionization_eV", "electron_affinity_eV",
                     "valence_electrons", "group", "period", "covalent_radius_A", "block_index")
#: how each pooled property is summarized over the atoms of the cell
POOLS = ("mean", "std", "min", "max")
BLOCK_NAMES = ("s", "p", "d", "f")


@cache
def descriptor_names() -> tuple[str, ...]:
    """The name of every entry of :func:`crystal_descriptors`, in order."""
    from crystaldos.evaluation.baselines import OXIDATION_TABLES

    pooled = [f"{prop}_{pool}" for prop in POOLED_PROPERTIES for pool in POOLS]
    return (*pooled, *(f"share_{b}_block" for b in BLOCK_NAMES), "share_metal_atoms",
            *(f"charge_imbalance_{t}" for t in OXIDATION_TABLES),
            "odd_electrons_cell", "odd_electrons_formula", "volume_per_atom_A3",
            "packing_fraction")


@cache
def _is_metal(z: int) -> bool:
    from pymatgen.core import Element

    return bool(Element.from_Z(z).is_metal)


def crystal_descriptors(crystal: Crystal) -> np.ndarray:
    """(len(descriptor_names()),) float64 descriptors of ``crystal``; a property missing from
    the element table is NaN in its pools (the trees route NaN)."""
    from crystaldos.evaluation.baselines import OXIDATION_TABLES, charge_imbalance

    z = np.asarray(crystal.numbers, dtype=np.int64)
    out: list[float] = []
    for prop in POOLED_PROPERTIES:
        values = property_array(prop)[z]
        if np.isnan(values).all():
            out += [np.nan] * len(POOLS)
        else:
            out += [float(np.nanmean(values)), float(np.nanstd(values)),
                    float(np.nanmin(values)), float(np.nanmax(values))]
    block = property_array("block_index")[z]
    out += [float(np.mean(block == i)) for i in range(len(BLOCK_NAMES))]
    out.append(float(np.mean([_is_metal(int(n)) for n in z])))
    out += [charge_imbalance(crystal.species, table) for table in OXIDATION_TABLES]
    counts = np.unique(z, return_counts=True)[1]
    electrons = property_array("valence_electrons")[z]
    cell_electrons = int(np.nansum(electrons))
    units = reduce(gcd, counts.tolist())
    out += [float(cell_electrons % 2), float((cell_electrons // units) % 2)]
    volume = crystal.volume
    radii = property_array("covalent_radius_A")[z]
    out += [volume / len(z), float(np.nansum(4.0 / 3.0 * np.pi * radii**3) / volume)]
    return np.asarray(out, dtype=np.float64)


def descriptor_matrix(crystals: list[Crystal]) -> np.ndarray:
    """(n, d) :func:`crystal_descriptors` of each crystal."""
    return np.stack([crystal_descriptors(c) for c in crystals])
