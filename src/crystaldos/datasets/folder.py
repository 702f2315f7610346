"""A folder of structure files plus ``id_prop.csv`` (the ALIGNN / CGCNN convention).

Each row of ``id_prop.csv`` is ``<structure file>,<DOS>`` where the DOS is either the remaining
comma-separated columns or one column of space-separated numbers (as ALIGNN writes multi-output
targets). The grid is not in the file: pass it, or put ``grid.json`` (a Grid dict, optionally with
``"normalization"``) in the folder.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np

from crystaldos.datasets._io import read_json
from crystaldos.datasets.base import DOSDataset, DOSRecord
from crystaldos.errors import DatasetError, StructureError
from crystaldos.spectra.grid import Grid
from crystaldos.structures.readers import read_structure


def _parse_values(fields: list[str], where: str) -> np.ndarray:
    parts = fields[1].split() if len(fields) == 2 else fields[1:]
    try:
        return np.asarray([float(v) for v in parts], dtype=np.float64)
    except ValueError as exc:
        raise DatasetError(where, f"DOS values must be numbers ({exc})") from None


def load_id_prop_folder(folder: str | Path, grid: Grid | None = None,
                        normalization: str | None = None, *,
                        validate: bool = True) -> DOSDataset:
    """Read ``folder/id_prop.csv`` and the structure files it names (relative to the folder)."""
    folder = Path(folder)
    table = folder / "id_prop.csv"
    if not table.exists():
        raise DatasetError(str(table), "no such file")
    sidecar = folder / "grid.json"
    if grid is None:
        if not sidecar.exists():
            raise DatasetError(str(folder), "no grid given and no grid.json in the folder")
        meta = read_json(sidecar)
        grid = Grid.from_dict(meta)
        normalization = normalization or meta.get("normalization")
    records = []
    with open(table, newline="") as fh:
        for n, fields in enumerate(csv.reader(fh), start=1):
            if not fields or not fields[0].strip():
                continue
            where = f"{table}:{n}"
            if len(fields) < 2:
                raise DatasetError(where, "row needs a file name and DOS values")
            values = _parse_values(fields, where)
            if values.size != grid.count:
                raise DatasetError(where, f"{values.size} DOS values but the grid has "
                                          f"{grid.count} points")
            name = fields[0].strip()
            try:
                crystal = read_structure(folder / name, validate=validate)
            except StructureError as err:
                raise DatasetError(err.source, err.problem) from None
            ident = Path(name).stem if Path(name).suffix in (".cif", ".vasp") else name
            crystal = dataclasses.replace(crystal, id=ident)
            records.append(DOSRecord(ident, crystal, values))
    if not records:
        raise DatasetError(str(table), "file has no rows")
    return DOSDataset(folder.name, grid, normalization or "none", records, str(folder))
