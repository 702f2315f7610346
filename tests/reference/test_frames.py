import numpy as np
import pytest

import crystaldos.reference.md as md
from crystaldos.errors import DatasetError
from crystaldos.reference.frames import FrameSet
from crystaldos.reference.md import label_frames
from tests.conftest import silicon_primitive
from tests.tinynet_fixtures import spring_frames


def test_frames_round_trip_and_subset(tmp_path) -> None:
    frames = spring_frames(4, seed=1)
    back = FrameSet.load(frames.save(tmp_path / "f.npz"))
    for key in ("numbers", "cells", "positions", "forces", "ldos", "grid", "trajectory"):
        np.testing.assert_array_equal(getattr(back, key), getattr(frames, key))
    assert back.recipe == frames.recipe
    sub = back.subset([3, 1])
    np.testing.assert_array_equal(sub.positions, frames.positions[[3, 1]])
    assert sub.crystal(0).n_atoms == 8


def test_a_bad_frame_file_is_named(tmp_path) -> None:
    with pytest.raises(DatasetError, match=r"missing\.npz: frame file not found"):
        FrameSet.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(DatasetError, match=r"other\.npz: not a crystaldos frame file"):
        FrameSet.load(tmp_path / "other.npz")


def test_labelling_resumes_from_its_checkpoint(tmp_path, monkeypatch) -> None:
    atoms = silicon_primitive().to_ase()
    frames = []
    for shift in (0.0, 0.03, 0.06):
        frame = atoms.copy()
        frame.positions[1, 0] += shift
        frames.append(frame)
    grid = np.linspace(-10, 5, 16)
    recipe = {"name": "si"}

    class Stop(Exception):
        pass

    def stop_after_two(done: int, total: int) -> None:
        if done == 2:
            raise Stop

    with pytest.raises(Stop):
        label_frames(frames, [0, 0, 1], tmp_path / "si.npz", grid=grid, sigma=0.3,
                     recipe=recipe, checkpoint_every=1, progress=stop_after_two)
    assert (tmp_path / "si.npz.partial.npz").is_file()
    calls = []
    real = md.robust_singlepoint
    monkeypatch.setattr(md, "robust_singlepoint",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    result = label_frames(frames, [0, 0, 1], tmp_path / "si.npz", grid=grid, sigma=0.3,
                          recipe=recipe, checkpoint_every=1)
    assert len(calls) == 1  # only the third frame was computed again
    assert not (tmp_path / "si.npz.partial.npz").exists()
    assert result.ldos.shape == (3, 2, 16) and result.recipe["engine"] == "tblite GFN2-xTB"
    assert result.recipe["scf_retries"] == {}  # every frame converged at the first settings
    np.testing.assert_allclose(result.forces[0], 0.0, atol=1e-4)  # ideal diamond
    assert abs(result.forces[2, 1, 0]) > abs(result.forces[1, 1, 0]) > 0.05
    np.testing.assert_allclose(result.forces.sum(axis=1), 0.0, atol=1e-5)
    again = FrameSet.load(tmp_path / "si.npz")
    np.testing.assert_allclose(again.ldos, result.ldos)


def test_a_frame_that_never_converges_is_recorded_and_skipped(tmp_path, monkeypatch) -> None:
    atoms = silicon_primitive().to_ase()
    frames = [atoms.copy() for _ in range(3)]
    real = md.robust_singlepoint

    def fail_second(frame, **kwargs):
        if kwargs["source"] == "si#1":
            raise md.ReferenceCalculationError("si#1", "SCF not converged")
        return real(frame, **kwargs)

    monkeypatch.setattr(md, "robust_singlepoint", fail_second)
    result = label_frames(frames, [0, 0, 1], tmp_path / "si.npz", grid=np.linspace(-5, 5, 8),
                          sigma=0.3, recipe={"name": "si"}, checkpoint_every=1)
    assert len(result) == 2 and result.trajectory.tolist() == [0, 1]
    assert result.recipe["failed_frames"] == {"1": "si#1: SCF not converged"}
    assert result.recipe["sampled_frames"] == 3


def test_frames_of_one_system_join_in_order() -> None:
    a, b = spring_frames(2, seed=0), spring_frames(3, seed=1)
    joined = FrameSet.concatenate([a, b])
    assert len(joined) == 5 and joined.trajectory.tolist() == [0, 0, 1, 1, 1]
    np.testing.assert_array_equal(joined.forces[2:], b.forces)
    other = FrameSet(a.numbers, a.cells, a.positions, a.forces, a.energies, a.ldos[:, :, :5],
                     a.grid[:5], a.trajectory)
    with pytest.raises(ValueError, match="different systems or grids"):
        FrameSet.concatenate([a, other])
