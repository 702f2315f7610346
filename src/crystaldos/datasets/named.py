"""One way to open a data set by name or path, for training and for property tables."""

from __future__ import annotations

from pathlib import Path

from crystaldos.datasets.base import DOSDataset
from crystaldos.errors import DatasetError
from crystaldos.spectra.grid import Grid

#: names of the data sets that need no path (see ``crystaldos.datasets``).
NAMED_DATASETS = ("jarvis-phonon", "mp-phonon", "phonondb")


def load_dataset(source: str, *, data_root: str | Path | None = None, grid: Grid | None = None,
                 structures: str = "dft3d") -> DOSDataset:
    """``jarvis-phonon`` / ``mp-phonon`` (shared data under ``data_root``), ``phonondb`` (the
    built set; on ``grid`` if given), an ``id_prop.csv`` folder or a JSON-lines data set (read
    onto ``grid`` when it has one)."""
    from crystaldos.datasets import (
        load_id_prop_folder,
        load_jarvis_phonon_benchmark,
        load_jsonl,
        load_mp_phonon,
    )

    if source == "jarvis-phonon":
        return load_jarvis_phonon_benchmark(data_root, structures=structures)
    if source == "mp-phonon":
        return load_mp_phonon(data_root)
    if source == "phonondb":
        from crystaldos.datasets.phonondb import load_phonondb

        return load_phonondb(grid=grid) if grid is not None else load_phonondb()
    path = Path(source)
    if path.is_dir():
        return load_id_prop_folder(path, grid)
    if path.is_file():
        return load_jsonl(path, grid)
    raise DatasetError(source, f"not a known data set ({', '.join(NAMED_DATASETS)}), an "
                       "id_prop.csv folder or a .jsonl file")
