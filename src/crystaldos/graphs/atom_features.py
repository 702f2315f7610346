"""Per-element atom feature tables, indexed by atomic number.

* ``cgcnn`` (92): one-hot / binned encoding after the CGCNN recipe (Xie & Grossman 2018), built
  here from the package's element table: f-series flag (1), group 1-18 (18), period 1-7 (7),
  Pauling electronegativity 0.5-4.0 (10 bins), covalent radius 0.25-2.5 Å (10), valence electrons
  1-12 (12), ln(first ionization energy / eV) 1.3-3.3 (10), electron affinity -3..3.7 eV (10),
  block s/p/d/f (4), ln(molar volume / cm^3 mol^-1) 1.5-4.3 (10). A missing property leaves its
  segment all zero; values outside a range fall in the end bins.
* ``attr5`` (5): electronegativity, electron affinity, valence electrons, first ionization energy,
  atomic radius.
* ``attr8`` (8): electronegativity, electron affinity, valence electrons, first ionization energy,
  covalent radius, group, block index, molar volume (atomic volume).
  Continuous sets are z-scored over Z = 1..103; missing values become 0 (the mean).
* ``atomic_number`` (1): Z itself, for models that learn an embedding per element.
"""

from __future__ import annotations

import hashlib
from functools import cache

import numpy as np

from crystaldos.elements import max_atomic_number, property_array

ATOM_FEATURE_SETS = ("cgcnn", "attr5", "attr8", "atomic_number")

_BINNED = (  # (property, low, high, bins, transform)
    ("electronegativity", 0.5, 4.0, 10, None),
    ("covalent_radius_A", 0.25, 2.5, 10, None),
)
_BINNED_LATE = (
    ("first_ionization_eV", 1.3, 3.3, 10, np.log),
    ("electron_affinity_eV", -3.0, 3.7, 10, None),
)
_ATTR5 = ("electronegativity", "electron_affinity_eV", "valence_electrons", "first_ionization_eV",
          "atomic_radius_A")
_ATTR8 = ("electronegativity", "electron_affinity_eV", "valence_electrons", "first_ionization_eV",
          "covalent_radius_A", "group", "block_index", "molar_volume_cm3")


def _one_hot_int(values: np.ndarray, low: int, high: int) -> np.ndarray:
    out = np.zeros((values.size, high - low + 1))
    ok = np.isfinite(values) & (values >= low) & (values <= high)
    out[np.nonzero(ok)[0], values[ok].astype(int) - low] = 1.0
    return out


def _binned(values: np.ndarray, low: float, high: float, bins: int) -> np.ndarray:
    out = np.zeros((values.size, bins))
    ok = np.isfinite(values)
    idx = np.clip(np.floor((values[ok] - low) / (high - low) * bins), 0, bins - 1).astype(int)
    out[np.nonzero(ok)[0], idx] = 1.0
    return out


def _log(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), np.nan)


def _cgcnn() -> np.ndarray:
    parts = [
        np.nan_to_num(property_array("f_series"))[:, None],
        _one_hot_int(property_array("group"), 1, 18),
        _one_hot_int(property_array("period"), 1, 7),
    ]
    parts += [_binned(property_array(name), lo, hi, n) for name, lo, hi, n, _ in _BINNED]
    parts.append(_one_hot_int(property_array("valence_electrons"), 1, 12))
    for name, lo, hi, n, transform in _BINNED_LATE:
        values = property_array(name)
        parts.append(_binned(_log(values) if transform is np.log else values, lo, hi, n))
    parts.append(_one_hot_int(property_array("block_index"), 0, 3))
    parts.append(_binned(_log(property_array("molar_volume_cm3")), 1.5, 4.3, 10))
    table = np.concatenate(parts, axis=1)
    table[0] = 0.0
    return table


def _standardized(columns: tuple[str, ...]) -> np.ndarray:
    table = np.stack([property_array(c) for c in columns], axis=1)
    body = table[1:]
    mean = np.nanmean(body, axis=0)
    std = np.nanstd(body, axis=0)
    out = np.nan_to_num((table - mean) / np.where(std > 0, std, 1.0), nan=0.0)
    out[0] = 0.0
    return out


@cache
def atom_feature_table(name: str) -> np.ndarray:
    """(max_z + 1, F) float32 table; row Z holds the features of element Z (row 0 is unused)."""
    if name == "cgcnn":
        table = _cgcnn()
    elif name == "attr5":
        table = _standardized(_ATTR5)
    elif name == "attr8":
        table = _standardized(_ATTR8)
    elif name == "atomic_number":
        table = np.arange(max_atomic_number() + 1, dtype=np.float64)[:, None]
    else:
        raise ValueError(f"unknown atom feature set {name!r}; choose from {ATOM_FEATURE_SETS}")
    table = np.ascontiguousarray(table, dtype=np.float32)
    table.setflags(write=False)
    return table


def atom_features(numbers: np.ndarray, name: str) -> np.ndarray:
    """(N, F) float32 features of atoms with the given atomic numbers."""
    return atom_feature_table(name)[np.asarray(numbers, dtype=np.int64)]


def feature_table_digest(name: str) -> str:
    """A short hash of a feature table, part of every graph-cache key."""
    return hashlib.sha256(atom_feature_table(name).tobytes()).hexdigest()[:16]
