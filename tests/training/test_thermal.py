import numpy as np
import pytest
import torch

from crystaldos.physics.constants import K_B
from crystaldos.physics.phonon import modes_from_dos, thermal_properties
from crystaldos.spectra.grid import EDOS_300, PHDOS_66
from crystaldos.training.config import ConfigError, TrainConfig
from crystaldos.training.thermal import ThermalLoss
from crystaldos.training.trainer import train


def test_per_atom_values_equal_the_physics_module() -> None:
    rng = np.random.default_rng(0)
    spectra = rng.random((3, PHDOS_66.count)) ** 4  # some weight below zero frequency too
    temps = [20.0, 300.0, 1000.0]
    got = ThermalLoss(PHDOS_66, temps).per_atom(torch.tensor(spectra, dtype=torch.float32))
    for row, y in zip(got.numpy(), spectra, strict=True):
        th = thermal_properties(modes_from_dos(PHDOS_66, y, 1), temps)
        np.testing.assert_allclose(row[:3], th.heat_capacity / K_B, rtol=1e-4)
        np.testing.assert_allclose(row[3:], th.entropy / K_B, rtol=1e-4)


def test_loss_is_zero_for_equal_shapes_and_has_gradients() -> None:
    loss = ThermalLoss(PHDOS_66)
    target = torch.rand(4, PHDOS_66.count)
    assert loss(2.0 * target, target).item() == pytest.approx(0.0, abs=1e-5)  # scale-free
    pred = torch.rand(4, PHDOS_66.count, requires_grad=True)
    value = loss(pred, target)
    value.backward()
    assert value.item() > 0 and pred.grad is not None and pred.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="phonon grid"):
        ThermalLoss(EDOS_300)


def test_training_with_the_thermal_term(toy_dataset_file, tmp_path) -> None:
    out = train(TrainConfig(dataset=str(toy_dataset_file), output=str(tmp_path / "m"),
                            preset="tiny", epochs=2, progress=False, accelerator="cpu",
                            thermal_weight=0.5, thermal_temperatures=[100.0, 300.0]))
    assert (out / "weights.pt").exists()
    with pytest.raises(ConfigError, match="thermal_weight must be >= 0"):
        train(TrainConfig(dataset=str(toy_dataset_file), output=str(tmp_path / "n"),
                          preset="tiny", epochs=1, progress=False, accelerator="cpu",
                          thermal_weight=-1.0))
