"""Loaders for the staged benchmark data sets (see ``shared/datasets/*/README.md``).

* JARVIS leaderboard phonon DOS (``jarvis_phonon_benchmark``): 14,243 ids, 66-point max-normalized
  phDOS on -300..1000 cm^-1; targets for train / val only; structures for a subset.
* Materials Project phonon set (``mp_phonon_e3nn``): 1,522 materials with structures, 51-point
  max-normalized phDOS on 0..1000 cm^-1; test spectra held back.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from crystaldos.datasets._io import iter_jsonl, read_json
from crystaldos.datasets.base import DOSDataset, DOSRecord, canonical_split
from crystaldos.errors import DatasetError, StructureError
from crystaldos.spectra.grid import EDOS_300, PHDOS_51, PHDOS_66
from crystaldos.structures.readers import from_record

STRUCTURE_SETS = {"dft3d": "structures_dft3d.jsonl.gz",
                  "alt": "structures_alt_supercon_relax.jsonl.gz"}


def default_shared_root() -> Path:
    """``$CRYSTALDOS_SHARED_DATA``, else the first of ./shared/datasets, ../shared/datasets."""
    env = os.environ.get("CRYSTALDOS_SHARED_DATA")
    if env:
        return Path(env)
    for candidate in (Path("shared/datasets"), Path("../shared/datasets")):
        if candidate.is_dir():
            return candidate.resolve()
    raise DatasetError("shared/datasets", "data folder not found; set CRYSTALDOS_SHARED_DATA")


def _spectrum(values: object, count: int, where: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (count,) or not np.all(np.isfinite(arr)):
        raise DatasetError(where, f"expected {count} finite DOS values, got shape {arr.shape}")
    return arr


def load_jarvis_phonon_benchmark(root: str | Path | None = None, *, structures: str = "dft3d",
                                 validate: bool = True) -> DOSDataset:
    """The JARVIS-leaderboard phonon-DOS benchmark with its official split.

    ``structures``: ``"dft3d"`` (exact JARVIS dft_3d structures, 3,756 ids), ``"alt"`` (572 ids
    from another relaxation), ``"both"`` (dft3d preferred) or ``"none"``. Records without a
    structure keep ``crystal=None``; test records have ``dos=None`` (held back).
    """
    folder = Path(root or default_shared_root()) / "jarvis_phonon_benchmark"
    splits = read_json(folder / "splits.json")
    split_of = {str(j): canonical_split(name) for name, ids in splits.items() for j in ids}
    dos: dict[str, np.ndarray] = {}
    targets = folder / "ph_dos_targets.jsonl.gz"
    for n, rec in iter_jsonl(targets):
        dos[str(rec["jid"])] = _spectrum(rec["ph_dos"], PHDOS_66.count, f"{targets}:{n}")
    names = {"dft3d": ["dft3d"], "alt": ["alt"], "both": ["alt", "dft3d"], "none": []}
    if structures not in names:
        raise ValueError(f"structures must be one of {sorted(names)}")
    crystals = {}
    for key in names[structures]:  # later sets override earlier ones: dft3d wins in "both"
        path = folder / STRUCTURE_SETS[key]
        for n, rec in iter_jsonl(path):
            try:
                crystals[str(rec["jid"])] = from_record(rec, source=f"{path}:{n}",
                                                        validate=validate)
            except StructureError as err:
                raise DatasetError(err.source, err.problem) from None
    records = [DOSRecord(j, crystals.get(j), dos.get(j), split)
               for j, split in split_of.items()]
    return DOSDataset("jarvis_phonon_benchmark", PHDOS_66, "max", records, str(folder))


def load_mp_phonon(root: str | Path | None = None, *, validate: bool = True) -> DOSDataset:
    """The Materials Project phonon set (1,522 materials) with the tutorial's split.

    Ids are ``mp-<row index>`` style strings ``mp_phdos_<index>`` unless the row's ``mp_id`` is
    known, which only holds for rows 0-4; splits use ``val`` for the source's ``valid``.
    """
    folder = Path(root or default_shared_root()) / "mp_phonon_e3nn"
    path = folder / "mp_phdos_e3nn.jsonl.gz"
    records = []
    for n, rec in iter_jsonl(path):
        where = f"{path}:{n}"
        ident = f"mp_phdos_{rec['index']}"
        try:
            crystal = from_record({**rec, "id": ident}, source=where, validate=validate)
        except StructureError as err:
            raise DatasetError(err.source, err.problem) from None
        values = None if rec.get("ph_dos") is None else _spectrum(rec["ph_dos"], PHDOS_51.count,
                                                                  where)
        records.append(DOSRecord(ident, crystal, values, canonical_split(rec.get("split")),
                                 {"index": rec["index"], "mp_id": rec.get("mp_id"),
                                  "formula": rec.get("formula")}))
    return DOSDataset("mp_phonon_e3nn", PHDOS_51, "max", records, str(folder))


def load_jarvis_edos_sample50(root: str | Path | None = None, *,
                              validate: bool = True) -> DOSDataset:
    """The 50-entry JARVIS eDOS fixture (``jarvis_edos_sample50``): ``edos_up`` on
    :data:`~crystaldos.spectra.grid.EDOS_300` in JARVIS' spin-up-per-valence-electron units (see
    :func:`crystaldos.datasets.jarvis.load_jarvis_edos`), E = 0 at the Fermi level
    (``energy_zero="fermi"``; :meth:`~crystaldos.datasets.base.DOSDataset.aligned_to` moves it
    to the VBM of the xTB set); no split. The per-electron counts are VASP's: the valence
    electrons of the PAW potentials JARVIS used (NaI integrates to 3/14 of its occupied states
    per spin with Na_pv's 7 electrons), not the package's element table, so occupied-band
    integrals differ from the xTB set's for semicore potentials."""
    folder = Path(root or default_shared_root()) / "jarvis_edos_sample50"
    path = folder / "edos_sample50.jsonl.gz"
    records = []
    for n, rec in iter_jsonl(path):
        where = f"{path}:{n}"
        try:
            crystal = from_record({**rec, "id": rec["jid"]}, source=where, validate=validate)
        except StructureError as err:
            raise DatasetError(err.source, err.problem) from None
        records.append(DOSRecord(str(rec["jid"]), crystal,
                                 _spectrum(rec["edos_up"], EDOS_300.count, where)))
    return DOSDataset("jarvis_edos_sample50", EDOS_300, "none", records, str(folder),
                      energy_zero="fermi")
