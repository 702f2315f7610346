"""The Materials Project eDOS layout of Mat2Spec and Xtal2DoS (``binned_dos_128``).

Both codes read one data folder laid out as::

    ROOT/label_edos/mpids.csv          one column of Materials Project ids, with a header row
    ROOT/label_edos/total_dos_128.npy  (N, 128) float array, row k belongs to line k of mpids.csv
    ROOT/materials_with_edos/dos_<id>.json   {"structure": <pymatgen Structure.as_dict()>, ...}

The 128 points are the total eDOS binned on -4..4 eV relative to the Fermi level (1/16 eV bins,
:data:`~crystaldos.spectra.grid.EDOS_128`); the arrays are not normalized (the codes standardize or
sum-normalize them at training time), so the data set's normalization is ``"none"``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from crystaldos.datasets.base import DOSDataset, DOSRecord
from crystaldos.errors import DatasetError, StructureError
from crystaldos.spectra.grid import EDOS_128, Grid
from crystaldos.structures.readers import from_pymatgen


def _read_ids(path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except OSError as err:
        raise DatasetError(str(path), f"cannot read the id list: {err.strerror}") from None
    if len(rows) < 2:
        raise DatasetError(str(path), "expected a header row and at least one id")
    return [row[0].strip() for row in rows[1:]]


def load_mat2spec_edos(root: str | Path, *, grid: Grid = EDOS_128, validate: bool = True,
                       skip_missing: bool = False) -> DOSDataset:
    """Read a Mat2Spec / Xtal2DoS ``binned_dos_128`` folder (see the module docstring).

    A material whose structure file is missing raises :class:`DatasetError` naming it, unless
    ``skip_missing`` (then it is left out). Splits are not part of the layout (``split=None``).
    """
    root = Path(root)
    ids_path = root / "label_edos" / "mpids.csv"
    dos_path = root / "label_edos" / "total_dos_128.npy"
    ids = _read_ids(ids_path)
    try:
        values = np.load(dos_path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DatasetError(str(dos_path), f"cannot read the DOS array: {err}") from None
    if values.ndim != 2 or values.shape != (len(ids), grid.count):
        raise DatasetError(str(dos_path), f"expected shape ({len(ids)}, {grid.count}) to match "
                                          f"{ids_path.name}, got {values.shape}")
    if not np.all(np.isfinite(values)):
        raise DatasetError(str(dos_path), "holds NaN or infinite values")
    from pymatgen.core import Structure

    records = []
    for ident, dos in zip(ids, values, strict=True):
        path = root / "materials_with_edos" / f"dos_{ident}.json"
        if not path.is_file():
            if skip_missing:
                continue
            raise DatasetError(str(path), f"structure file of {ident} is missing")
        try:
            with open(path, encoding="utf-8") as handle:
                structure = Structure.from_dict(json.load(handle)["structure"])
        except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise DatasetError(str(path), f"not a structure file with a 'structure' entry: "
                                          f"{type(err).__name__}: {err}") from None
        try:
            crystal = from_pymatgen(structure, id=ident, source=str(path), validate=validate)
        except StructureError as err:
            raise DatasetError(err.source, err.problem) from None
        records.append(DOSRecord(ident, crystal, np.asarray(dos, dtype=np.float64)))
    return DOSDataset("mat2spec_edos128", grid, "none", records, str(root))
