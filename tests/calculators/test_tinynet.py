import numpy as np
import pytest
from ase import units
from ase.calculators.calculator import PropertyNotImplementedError
from ase.md.verlet import VelocityVerlet

from crystaldos.calculators import TinyNetCalculator
from crystaldos.embeddings import MomentsEmbedding
from crystaldos.errors import StructureError
from crystaldos.models.tinynet import save_tinynet
from crystaldos.training.tinynet import atom_data, embed_frames, train_tinynet
from tests.conftest import rocksalt
from tests.tinynet_fixtures import GRID, spring_frames


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    emb = MomentsEmbedding((11, 17), max_length=4, n_neighbors=6, bond_factor=1.0)
    train, val = spring_frames(30, 0), spring_frames(8, 1)
    model, _ = train_tinynet(atom_data(train, embed_frames(train, emb)),
                             atom_data(val, embed_frames(val, emb)), emb.species, epochs=40,
                             learning_rate=1e-2, batch_size=64)
    return save_tinynet(tmp_path_factory.mktemp("m") / "springs.pt", model, emb, GRID)


def test_calculator_drives_md_with_zero_net_force(model_path) -> None:
    atoms = rocksalt(4.6).to_ase()
    atoms.rattle(0.05, seed=3)
    atoms.calc = TinyNetCalculator(model_path)
    forces = atoms.get_forces()
    assert forces.shape == (8, 3)
    np.testing.assert_allclose(forces.sum(axis=0), 0.0, atol=1e-6)
    ldos = atoms.calc.get_property("ldos", atoms)
    assert ldos.shape == (8, GRID.size) and ldos.min() >= 0
    start = atoms.positions.copy()
    VelocityVerlet(atoms, 1.0 * units.fs).run(5)
    assert np.abs(atoms.positions - start).max() > 1e-4
    assert np.all(np.isfinite(atoms.get_forces()))
    with pytest.raises(PropertyNotImplementedError):
        atoms.get_potential_energy()


def test_calculator_names_unknown_elements(model_path) -> None:
    atoms = rocksalt(4.6).to_ase()
    atoms.numbers[0] = 19
    atoms.calc = TinyNetCalculator(model_path)
    with pytest.raises(StructureError, match=r"elements \[19\] are not in the embedding"):
        atoms.get_forces()
