"""JSON-lines data sets: one material per line with its structure and DOS.

Line layout: ``{"id", <structure: lattice + species + frac_coords|cart_coords, or "atoms">,
"dos": [...], "split"?: "train"|"val"|"test", "grid"?: {...}, "normalization"?: str,
"energy_zero"?: "fermi"|"vbm" (electronic sets: where E = 0 is),
"meta"?: {...}}`` (``meta`` is kept as the record's ``meta``). The grid
comes from the argument, else from the first line that has one; all lines must agree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crystaldos.datasets._io import iter_jsonl
from crystaldos.datasets.base import DOSDataset, DOSRecord, canonical_split
from crystaldos.errors import DatasetError, StructureError
from crystaldos.spectra.grid import Grid
from crystaldos.structures.readers import from_record


def load_jsonl(path: str | Path, grid: Grid | None = None, normalization: str | None = None, *,
               dos_key: str = "dos", validate: bool = True) -> DOSDataset:
    """Read a JSON-lines data set (see the module docstring)."""
    path = Path(path)
    records, lines = [], []
    energy_zero: str | None = None
    for n, rec in iter_jsonl(path):
        where = f"{path}:{n}"
        if "grid" in rec:
            line_grid = Grid.from_dict(rec["grid"])
            if grid is None:
                grid = line_grid
            elif line_grid != grid:
                raise DatasetError(where, f"grid {line_grid} differs from {grid}")
        if normalization is None and rec.get("normalization"):
            normalization = str(rec["normalization"])
        if rec.get("energy_zero") and energy_zero is None:
            energy_zero = str(rec["energy_zero"])
        try:
            crystal = from_record(rec, source=where, default_id=f"{path.stem}#{n}",
                                  validate=validate)
        except StructureError as err:
            raise DatasetError(err.source, err.problem) from None
        values = rec.get(dos_key)
        dos = None if values is None else np.asarray(values, dtype=np.float64)
        if dos is not None and (dos.ndim != 1 or not np.all(np.isfinite(dos))):
            raise DatasetError(where, f"{dos_key!r} must be a list of finite numbers")
        records.append(DOSRecord(crystal.id, crystal, dos, canonical_split(rec.get("split")),
                                 dict(rec.get("meta") or {})))
        lines.append(n)
    if grid is None:
        raise DatasetError(str(path), "no grid given and no line carries a 'grid'")
    for rec, n in zip(records, lines, strict=True):
        if rec.dos is not None and rec.dos.size != grid.count:
            raise DatasetError(f"{path}:{n}", f"{rec.dos.size} DOS values but the grid has "
                                              f"{grid.count} points")
    if not records:
        raise DatasetError(str(path), "file has no records")
    return DOSDataset(path.stem, grid, normalization or "none", records, str(path),
                      energy_zero)
