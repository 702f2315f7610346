"""JARVIS-DFT data through jarvis-tools' figshare loader, with a cache directory and offline mode.

``jarvis.db.figshare.data(name, store_dir=cache_dir)`` downloads ``<js_tag>.zip`` into the cache
directory once and reads the JSON list inside. With ``offline=True`` nothing is downloaded: the same
file must already be in the cache directory (copy it there by hand on machines without network).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.datasets.base import DOSDataset, DOSRecord
from crystaldos.errors import DatasetError, StructureError
from crystaldos.spectra.grid import EDOS_300, PHDOS_66, Grid
from crystaldos.structures.readers import from_jarvis_atoms

#: which grid each JARVIS DOS field lives on. ``pdos_elast``: the phonon benchmark grid (66 points,
#: -300..1000 cm^-1). ``edos_up``: the ALIGNN eDOS grid, 300 points on -5..10 eV relative to the
#: Fermi level. Neither jarvis-tools nor the data store this grid (the figshare description says
#: only "normalized ... with interpolated values and fixed number of bins"); the ALIGNN eDOS paper
#: (Kaundinya et al. 2022) gives the -5..10 eV window, and the 50-entry fixture agrees with it: the
#: gaps of its insulators open at or just below point 100 (E = 0 on this grid). Values are the
#: spin-up DOS per valence electron: over -5..0 eV they integrate to at most 0.53 (0.50 would be
#: a full spin-up valence band); see docs in ``load_jarvis_edos``.
DOS_FIELDS: dict[str, Grid] = {"pdos_elast": PHDOS_66, "edos_up": EDOS_300}


def default_cache_dir() -> Path:
    """``$CRYSTALDOS_CACHE/jarvis`` or ``~/.cache/crystaldos/jarvis``."""
    base = os.environ.get("CRYSTALDOS_CACHE", str(Path.home() / ".cache" / "crystaldos"))
    return Path(base) / "jarvis"


def _db_entry(dataset: str) -> tuple[str, str]:
    from jarvis.db.figshare import get_db_info

    info = get_db_info()
    if dataset not in info:
        raise DatasetError(dataset, "not a JARVIS figshare data set name")
    url, js_tag = info[dataset][0], info[dataset][1]
    return url, js_tag


def jarvis_cache_file(dataset: str, cache_dir: str | Path | None = None) -> Path:
    """Where jarvis-tools keeps (or would download) the zip file of ``dataset``."""
    _, js_tag = _db_entry(dataset)
    return Path(cache_dir or default_cache_dir()) / f"{js_tag}.zip"


def load_jarvis(dataset: str = "dft_3d", cache_dir: str | Path | None = None, *,
                offline: bool = False) -> list[dict[str, Any]]:
    """The raw JARVIS entries (list of dicts) of a figshare data set such as ``dft_3d`` or
    ``edos_pdos``. Downloads once into ``cache_dir`` unless ``offline``."""
    path = jarvis_cache_file(dataset, cache_dir)
    _, js_tag = _db_entry(dataset)
    if offline or path.exists():
        if not path.exists():
            raise DatasetError(str(path), f"JARVIS {dataset!r} is not in the cache and offline "
                                          f"mode forbids downloading it")
        try:
            with zipfile.ZipFile(path) as zf:
                return json.loads(zf.read(js_tag))
        except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            raise DatasetError(str(path), f"not a valid JARVIS {dataset!r} file: {exc}") from None
    from jarvis.db.figshare import data

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return data(dataset, store_dir=str(path.parent))
    except Exception as exc:
        path.unlink(missing_ok=True)  # never leave a partial download behind as "cached"
        raise DatasetError(str(path), f"download of JARVIS {dataset!r} failed: "
                                      f"{type(exc).__name__}: {exc}") from None


def jarvis_dos_dataset(entries: list[dict[str, Any]], field: str = "pdos_elast",
                       grid: Grid | None = None, *, validate: bool = True,
                       skip_invalid: bool = True) -> DOSDataset:
    """Records with a structure (``atoms``) and a DOS in ``field`` (entries lacking either, or
    with a DOS of the wrong length, are skipped; invalid structures too unless
    ``skip_invalid=False``). The grid defaults to :data:`DOS_FIELDS`."""
    grid = grid or DOS_FIELDS.get(field)
    if grid is None:
        raise DatasetError(field, f"unknown DOS field; give a grid (known: {sorted(DOS_FIELDS)})")
    records = []
    for k, entry in enumerate(entries):
        values = entry.get(field)
        if not isinstance(values, list) or len(values) != grid.count or "atoms" not in entry:
            continue
        ident = str(entry.get("jid", k))
        try:
            crystal = from_jarvis_atoms(entry["atoms"], id=ident, source=f"jarvis:{ident}",
                                        validate=validate)
        except StructureError:
            if skip_invalid:
                continue
            raise
        records.append(DOSRecord(ident, crystal, np.asarray(values, dtype=np.float64)))
    return DOSDataset(f"jarvis_{field}", grid, "none", records, "jarvis-figshare",
                      energy_zero="fermi" if grid.kind == "electronic" else None)


def load_jarvis_edos(cache_dir: str | Path | None = None, *, offline: bool = False,
                     validate: bool = True) -> DOSDataset:
    """JARVIS ``edos_pdos`` eDOS (``edos_up``, 300 points on -5..10 eV, :data:`EDOS_300`).

    ``edos_up`` is the spin-up DOS per valence electron (so twice it is the total DOS per
    valence electron of a non-magnetic material); the data set's normalization is ``"none"``
    because that spin-up convention is not one of crystaldos' normalizations. Downloads the
    figshare file once into ``cache_dir`` (offline: it must be there already).
    """
    entries = load_jarvis("edos_pdos", cache_dir, offline=offline)
    dataset = jarvis_dos_dataset(entries, "edos_up", EDOS_300, validate=validate)
    dataset.name = "jarvis_edos_pdos"
    return dataset
