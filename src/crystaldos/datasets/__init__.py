"""Data sets: JARVIS figshare, the staged benchmark sets, id_prop folders, JSON lines, splits."""

from crystaldos.datasets.base import SPLIT_NAMES, DOSDataset, DOSRecord, canonical_split
from crystaldos.datasets.folder import load_id_prop_folder
from crystaldos.datasets.jarvis import (
    default_cache_dir,
    jarvis_cache_file,
    jarvis_dos_dataset,
    load_jarvis,
    load_jarvis_edos,
)
from crystaldos.datasets.jsonl import load_jsonl
from crystaldos.datasets.mat2spec import load_mat2spec_edos
from crystaldos.datasets.shared import (
    default_shared_root,
    load_jarvis_edos_sample50,
    load_jarvis_phonon_benchmark,
    load_mp_phonon,
)
from crystaldos.datasets.splits import apply_splits, load_splits, random_split, save_splits

__all__ = [
    "SPLIT_NAMES", "DOSDataset", "DOSRecord", "apply_splits", "canonical_split",
    "default_cache_dir", "default_shared_root", "jarvis_cache_file", "jarvis_dos_dataset",
    "load_id_prop_folder", "load_jarvis", "load_jarvis_edos", "load_jarvis_edos_sample50",
    "load_jarvis_phonon_benchmark", "load_jsonl", "load_mat2spec_edos", "load_mp_phonon",
    "load_splits", "random_split", "save_splits",
]
