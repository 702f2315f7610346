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


def toy_crystals(n: int, seed: int = 0) -> list[Crystal]:
    """``n`` small binary crystals (rocksalt / zincblende-like, varied elements and lattice)."""
    rng = np.random.default_rng(seed)
    pairs = [("Na", "Cl"), ("Mg", "O"), ("K", "Br"), ("Li", "F"), ("Ga", "As"), ("Zn", "S")]
    out = []
    for k in range(n):
        a_el, b_el = pairs[k % len(pairs)]
        a = 4.0 + 1.5 * rng.random()
        lattice = 0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
        shift = 0.5 if k % 2 == 0 else 0.25
        frac = [[0, 0, 0], [shift, shift, shift + 0.01 * rng.random()]]
        out.append(from_arrays(lattice, [a_el, b_el], frac_coords=frac, id=f"toy-{k}"))
    return out


def toy_spectrum(crystal: Crystal, count: int = 51) -> np.ndarray:
    """A max-normalized peak whose position follows the cell volume (learnable from structure)."""
    x = np.linspace(0.0, 1.0, count)
    centre = 0.2 + 0.5 * (crystal.volume ** (1 / 3) - 2.5) / 1.5
    y = np.exp(-((x - centre) ** 2) / 0.01)
    return y / y.max()


@pytest.fixture(scope="session")
def toy_dataset_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JSON-lines data set of 32 toy crystals with spectra on the phdos51 grid (24 train,
    8 val)."""
    import json

    from crystaldos.spectra.grid import PHDOS_51

    path = tmp_path_factory.mktemp("toy") / "toy.jsonl"
    with path.open("w") as fh:
        for k, crystal in enumerate(toy_crystals(32)):
            rec = crystal.to_record()
            rec.update({"dos": toy_spectrum(crystal).tolist(), "grid": PHDOS_51.to_dict(),
                        "normalization": "max", "split": "train" if k < 24 else "val"})
            fh.write(json.dumps(rec) + "\n")
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(toy_dataset_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny ALIGNN-DOS trained for 3 epochs on the toy set (a few seconds on CPU)."""
    from crystaldos.training.config import TrainConfig
    from crystaldos.training.trainer import train

    out = tmp_path_factory.mktemp("models") / "tiny"
    return train(TrainConfig(dataset=str(toy_dataset_file), output=str(out), preset="tiny",
                             epochs=3, progress=False, accelerator="cpu", aliases=["toy"]))


def write_spectra(path: Path, grid, normalization: str,
                  rows: list[tuple[str, np.ndarray, dict]], columns: dict | None = None) -> Path:
    """A predictions-style table of ``rows`` (id, DOS, other values) on ``grid``."""
    from crystaldos.prediction.writers import open_writer
    from crystaldos.spectra.spectrum import Spectrum

    columns = {"id": "str", **(columns if columns is not None else
                               {"cell_formula": "str", "volume_A3": "float"})}
    writer = open_writer(path, columns, grid, normalization)
    for ident, dos, values in rows:
        writer.write({"id": ident, **values}, Spectrum(dos, grid, normalization))
    writer.close()
    return path
