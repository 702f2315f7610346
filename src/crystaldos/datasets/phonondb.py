"""The phonondb data set built by ``scripts/make_phonondb.py`` (Kyoto phonondb, VASP PBEsol).

Each record holds the primitive cell and the phonon-mode histogram on the 10 cm^-1 fine grid
(:data:`crystaldos.reference.phonondb.FINE_GRID`). :func:`load_phonondb` smooths that histogram
with a Gaussian of ``smearing`` cm^-1 (exact bin integrals, so no area is lost inside the grid) and
moves it onto ``grid`` (default: the universal phdos221 grid, -300..4100 cm^-1) conserving area,
in ``area`` normalization (unit integral), or ``modes3n`` (integral 3N, per primitive cell).
Records keep the thermal properties, the imaginary-mode share and the modes outside the grid in
``meta``. Only train and val materials are ever built; ``split`` is the shared split.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from crystaldos.datasets.base import DOSDataset, DOSRecord
from crystaldos.errors import DatasetError
from crystaldos.spectra.grid import PHDOS_221, Grid
from crystaldos.spectra.resample import rebin
from crystaldos.structures.readers import from_arrays

#: Where the built set is looked for when no folder is given: $CRYSTALDOS_PHONONDB, then
#: ./data/phonondb, then data/phonondb beside the source tree (an editable install).
ENV = "CRYSTALDOS_PHONONDB"
DEFAULT_SMEARING = 10.0


def default_phonondb_folder() -> Path:
    candidates = [Path(os.environ[ENV])] if os.environ.get(ENV) else []
    candidates += [Path("data/phonondb"), Path(__file__).resolve().parents[3] / "data" /
                   "phonondb"]
    for folder in candidates:
        if any(folder.glob("phonondb-*.jsonl*")):
            return folder
    raise DatasetError("data/phonondb", f"phonondb records not found; build them with "
                       f"scripts/make_phonondb.py or set {ENV}")


def fine_histogram(record: dict) -> np.ndarray:
    """The stored mode histogram of a record on the fine grid (modes per cell per bin)."""
    from crystaldos.reference.phonondb import FINE_GRID

    hist = np.zeros(FINE_GRID.count)
    first = int(record["hist_first"])
    hist[first:first + len(record["hist"])] = record["hist"]
    return hist


def phonondb_spectrum(record: dict, grid: Grid = PHDOS_221,
                      smearing: float = DEFAULT_SMEARING) -> np.ndarray:
    """The record's DOS on ``grid`` in modes per cm^-1 per primitive cell (integral 3N inside
    the fine grid), Gaussian-smoothed by ``smearing`` cm^-1 (0: the raw histogram)."""
    from crystaldos.reference.phonondb import FINE_GRID
    from crystaldos.spectra.resample import smear_levels

    hist = fine_histogram(record)
    if smearing > 0:
        nonzero = np.flatnonzero(hist)
        density = smear_levels(FINE_GRID.points[nonzero], FINE_GRID, smearing,
                               weights=hist[nonzero])
    else:
        density = hist / FINE_GRID.step
    return rebin(density, FINE_GRID, grid)


def load_phonondb(folder: str | Path | None = None, *, grid: Grid = PHDOS_221,
                  normalization: str = "area", smearing: float = DEFAULT_SMEARING,
                  validate: bool = True) -> DOSDataset:
    """The built phonondb set as a :class:`DOSDataset` (see the module docstring)."""
    from crystaldos.reference.shards import RecordShards

    if normalization not in ("area", "modes3n"):
        raise DatasetError("phonondb", f"normalization must be area or modes3n, not "
                           f"{normalization!r}")
    folder = Path(folder) if folder is not None else default_phonondb_folder()
    store = RecordShards(folder, prefix="phonondb") if folder.is_dir() else None
    if store is None or not store.parts():
        raise DatasetError(str(folder), "no phonondb records here")
    records = []
    for rec in store.records():
        dos = phonondb_spectrum(rec, grid, smearing)
        area = dos.sum() * grid.step
        if area <= 0:
            continue
        if normalization == "area":
            dos = dos / area
        crystal = from_arrays(rec["lattice"], rec["species"], frac_coords=rec["frac_coords"],
                              id=rec["id"], source=f"{folder}:{rec['id']}", validate=validate)
        meta = {k: rec[k] for k in ("formula", "imaginary_fraction", "min_frequency_cm1",
                                    "max_frequency_cm1", "temperatures_K", "cv_J_per_K_mol",
                                    "entropy_J_per_K_mol", "free_energy_kJ_per_mol")}
        meta["modes_outside_grid"] = 3 * len(rec["species"]) - area
        records.append(DOSRecord(rec["id"], crystal, dos, rec["split"], meta))
    return DOSDataset("phonondb", grid, normalization, records, str(folder))
