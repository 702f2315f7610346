"""Small self-made crystals shared by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crystaldos.structures import Crystal, from_arrays

SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def rocksalt(a: float = 5.64) -> Crystal:
    """NaCl conventional cell (8 atoms)."""
    base = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    frac = np.vstack([base, base + np.array([0.5, 0, 0])]) % 1.0
    return from_arrays(np.eye(3) * a, ["Na"] * 4 + ["Cl"] * 4, frac_coords=frac, id="NaCl")


def silicon_primitive(a: float = 5.43) -> Crystal:
    lattice = 0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    return from_arrays(lattice, ["Si", "Si"], frac_coords=[[0, 0, 0], [0.25, 0.25, 0.25]],
                       id="Si")


def triclinic() -> Crystal:
    """A 3-atom triclinic cell with unequal lengths and angles."""
    lattice = np.array([[4.1, 0.0, 0.0], [1.3, 3.7, 0.0], [0.9, -1.1, 4.6]])
    frac = [[0.0, 0.0, 0.0], [0.31, 0.52, 0.17], [0.73, 0.21, 0.64]]
    return from_arrays(lattice, ["Ti", "O", "O"], frac_coords=frac, id="tric")


def tiny_cell() -> Crystal:
    """One atom in a 2.2 Å cubic cell: far smaller than any cutoff, all neighbours are images."""
    return from_arrays(np.eye(3) * 2.2, ["Cu"], positions=[[0.1, 0.2, 0.3]], id="tiny")


@pytest.fixture
def shared_datasets() -> Path:
    if not SHARED_DATASETS.is_dir():
        pytest.skip("shared/datasets is not beside the checkout")
    return SHARED_DATASETS
