"""Composition and cell descriptors of a crystal: a fixed-length vector for tree models.

No graph and no potential: element properties pooled over the atoms of the cell, the share of
atoms in each block and of metallic elements, whether oxidation states can balance the
formula and by how many electrons per atom it misses at best
(:func:`crystaldos.evaluation.baselines.charge_imbalance`, each oxidation-state table), whether the
cell and the formula unit hold an odd number of valence electrons, and the volume and packing
per atom. :func:`descriptor_names` names the entries of :func:`crystal_descriptors` in order.

Every entry is the same for any cell of the crystal (primitive, conventional or a supercell):
the electron parity is counted per primitive cell (spglib), and the number of atoms in the
given cell is left out (``benchmarks/gap_trees.py`` scores a variant with it: no better beyond
noise).

``uip="chgnet"`` (or ``"sevennet"``) appends what a pretrained universal potential says about
the cell at its given geometry (:func:`uip_descriptors`: its atom features pooled, energy per
atom, residual forces and stress, magnetic moments where it predicts them); this needs the
potential's package (the reference extra) and one potential call per crystal.
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
def descriptor_names(uip: str | None = None) -> tuple[str, ...]:
    """The name of every entry of :func:`crystal_descriptors`, in order, then those of
    :func:`uip_descriptors` of potential ``uip`` when one is named."""
    from crystaldos.evaluation.baselines import OXIDATION_TABLES

    pooled = [f"{prop}_{pool}" for prop in POOLED_PROPERTIES for pool in POOLS]
    names = (*pooled, *(f"share_{b}_block" for b in BLOCK_NAMES), "share_metal_atoms",
             *(f"charge_imbalance_{t}" for t in OXIDATION_TABLES),
             "odd_electrons_primitive_cell", "odd_electrons_formula", "volume_per_atom_A3",
             "packing_fraction")
    if uip is None:
        return names
    from crystaldos.graphs.uip import SUMMARY_POOLS, UIP_WIDTHS, summary_globals

    if uip not in UIP_WIDTHS:
        raise ValueError(f"unknown potential {uip!r}; choose from {sorted(UIP_WIDTHS)}")
    features = [f"{uip}_{pool}_{i}" for pool in SUMMARY_POOLS for i in range(UIP_WIDTHS[uip])]
    return (*names, *features,
            *(f"{uip}_{g}" for g in summary_globals(uip) if g not in CELL_SIZE_GLOBALS))


#: entries of a potential's crystal summary that depend on the size of the given cell
CELL_SIZE_GLOBALS = ("n_atoms",)


def uip_descriptors(crystal: Crystal, uip: str) -> np.ndarray:
    """:func:`crystaldos.graphs.uip.uip_crystal_summary` of ``crystal`` by potential ``uip``
    without the entries that count the atoms of the given cell (the rest is the same for any
    cell of the crystal up to the potential's numerics)."""
    from crystaldos.graphs.uip import summary_globals, uip_crystal_summary

    summary = uip_crystal_summary(crystal, uip)
    globals_ = summary_globals(uip)
    start = len(summary) - len(globals_)
    drop = [start + k for k, g in enumerate(globals_) if g in CELL_SIZE_GLOBALS]
    return np.delete(summary, drop)


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
    cell_electrons = int(np.nansum(property_array("valence_electrons")[z]))
    units = reduce(gcd, counts.tolist())
    primitive = cell_electrons * primitive_atoms(crystal) // len(z)
    out += [float(primitive % 2), float((cell_electrons // units) % 2)]
    volume = crystal.volume
    radii = property_array("covalent_radius_A")[z]
    out += [volume / len(z), float(np.nansum(4.0 / 3.0 * np.pi * radii**3) / volume)]
    return np.asarray(out, dtype=np.float64)


def primitive_atoms(crystal: Crystal, symprec: float = 1e-3) -> int:
    """Atoms in the primitive cell of ``crystal`` (spglib at ``symprec`` Å); the given cell's
    count where spglib finds no cell (overlapping atoms)."""
    import warnings

    import spglib

    cell = (crystal.lattice, crystal.frac_coords, crystal.numbers)
    with warnings.catch_warnings():  # spglib 2 announces its coming error style on every call
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            found = spglib.standardize_cell(cell, to_primitive=True, no_idealize=True,
                                            symprec=symprec)
        except spglib.SpglibError:
            found = None
    return len(crystal.numbers) if found is None else len(found[2])


def descriptor_matrix(crystals: list[Crystal], uip: str | None = None) -> np.ndarray:
    """(n, len(descriptor_names(uip))) :func:`crystal_descriptors` of each crystal, followed by
    its :func:`uip_descriptors` when a potential ``uip`` is named."""
    x = np.stack([crystal_descriptors(c) for c in crystals])
    if uip is None:
        return x
    return np.hstack([x, np.stack([uip_descriptors(c, uip) for c in crystals])])
