import numpy as np
import pytest
from ase.spacegroup import crystal

from crystaldos.calculators import TinyNetCalculator
from crystaldos.errors import DatasetError
from crystaldos.pretrained.tinynet import bundled_tinynets, load_pretrained_tinynet

BUNDLED = sorted(bundled_tinynets())


def test_the_md_reference_models_ship() -> None:
    for system in ("batio3", "moo3"):
        assert f"tinynet-{system}-xtb-L6N4" in BUNDLED
        assert f"tinynet-{system}-xtb-L4N2" in BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_tinynet_cards_are_complete_and_beat_the_baseline(name: str) -> None:
    bundle = load_pretrained_tinynet(name)
    meta = bundle.metadata
    assert meta["recipe"]["engine"] == "tblite GFN2-xTB"
    assert meta["test"]["force_rmse"] < meta["baseline_test"]["force_rmse"]
    assert meta["test"]["ldos_mae"] < meta["baseline_test"]["ldos_mae"]
    assert bundle.grid.size == bundle.model.config["n_dos"]
    assert bundle.embedding.size == bundle.model.config["n_inputs"]


def test_bundled_batio3_model_drives_a_bigger_cell() -> None:
    cubic = crystal(["Ba", "Ti", "O"], basis=[(0, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0)],
                    spacegroup=221, cellpar=[4.0, 4.0, 4.0, 90, 90, 90])
    atoms = cubic.repeat((3, 3, 3))
    atoms.rattle(0.03, seed=1)
    atoms.calc = TinyNetCalculator("tinynet-batio3-xtb-L6N4")
    forces = atoms.get_forces()
    assert forces.shape == (135, 3) and np.all(np.isfinite(forces))
    ldos = atoms.calc.get_property("ldos", atoms)
    assert ldos.shape == (135, atoms.calc.grid.size)
    # an oxygen's local DOS sits mostly below the gap (filled O 2p), a titanium's above it
    occupied = atoms.calc.grid < 0
    oxygen, titanium = ldos[atoms.numbers == 8].mean(0), ldos[atoms.numbers == 22].mean(0)
    assert oxygen[occupied].sum() > oxygen[~occupied].sum()
    assert titanium[~occupied].sum() > titanium[occupied].sum()


def test_unknown_tinynet_name_is_named() -> None:
    with pytest.raises(DatasetError, match="no-such-net: not a bundled TinyNet"):
        load_pretrained_tinynet("no-such-net")
