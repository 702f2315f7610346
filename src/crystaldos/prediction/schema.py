"""The row every command writes and reads: the column names and types, defined once.

A :class:`Row` is one predicted structure: its key (the source it was read from: ``file``,
``file:line``, ``file[k]`` or ``file#frame``), id, the :data:`BASE_COLUMNS` values, any property
columns, and its :class:`~crystaldos.spectra.spectrum.Spectrum` (grid and normalization
included). A :class:`Failure` is a structure that gave no row. ``predict`` writes rows to a file,
``screen`` to the resumable shard store; ``properties``, ``rank``, ``report`` and ``verify`` read
them back as the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crystaldos.spectra.spectrum import Spectrum
from crystaldos.structures.crystal import Crystal

KEY = "key"
ID = "id"
DOS = "dos"
DOS_STD = "dos_std"  # per-bin standard deviation of the DOS (ensembles)
#: columns of every row besides the DOS: name -> type (str, int, float, bool).
BASE_COLUMNS: dict[str, str] = {
    KEY: "str",            # where the structure was read from; unique per input item
    ID: "str",             # the structure's own id (file stem, record id, frame info)
    "formula": "str",      # reduced formula, e.g. NaCl
    "cell_formula": "str",  # formula of the whole cell, e.g. Na4Cl4
    "n_atoms": "int",
    "volume_A3": "float",  # cell volume, Å^3
    "ood_score": "float",  # composition distance to the training set (models.domain); 0 = seen
    "file": "str",         # the file part of the key
    "note": "str",         # what went wrong on the way (properties not derived...), or empty
}
#: columns the screening store adds to every row so ``verify`` needs no source file: the cell
#: (9 floats, Å, vectors as rows), the element symbols and the fractional coordinates (3N).
STRUCTURE_COLUMNS = ("lattice", "species", "frac_coords")
#: suffix of the column holding a property's calibrated standard deviation (ensembles).
STD_SUFFIX = "_std"


def std_column(column: str) -> str:
    """The column of ``column``'s standard deviation."""
    return f"{column}{STD_SUFFIX}"


#: columns of a failure record.
FAILURE_COLUMNS = (KEY, ID, "file", "reason")
COLUMN_TYPES = ("str", "int", "float", "bool")


def arrow_type(kind: str) -> Any:
    """The pyarrow type of a column type name."""
    import pyarrow as pa

    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
    try:
        return types[kind]
    except KeyError:
        raise ValueError(f"unknown column type {kind!r}; choose from {COLUMN_TYPES}") from None


def plain_value(value: Any) -> Any:
    """JSON/CSV/Arrow-ready scalar: numpy scalars to Python, NaN and inf to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class Row:
    """One predicted structure (see the module docstring); ``values`` holds every column but
    the DOS, in the order of the run's columns."""

    spectrum: Spectrum
    values: dict[str, Any] = field(default_factory=dict)
    crystal: Crystal | None = None  # the structure predicted (None when read back from a file)
    spread: Spectrum | None = None  # per-bin standard deviation (ensembles), as ``spectrum``

    @property
    def key(self) -> str:
        return str(self.values.get(KEY, self.values.get(ID, "")))

    @property
    def id(self) -> str:
        return str(self.values.get(ID, ""))

    @property
    def dos(self) -> np.ndarray:
        return self.spectrum.values


@dataclass(frozen=True)
class Failure:
    """A structure that gave no row: its key, id (if known), file and the one-line reason."""

    key: str
    id: str
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.reason}"

    def values(self) -> dict[str, str]:
        return {KEY: self.key, ID: self.id, "file": self.file, "reason": self.reason}


def row_columns(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """:data:`BASE_COLUMNS` followed by ``extra`` (property columns) that are not base ones."""
    columns = dict(BASE_COLUMNS)
    columns.update({k: v for k, v in (extra or {}).items() if k not in BASE_COLUMNS})
    return columns
