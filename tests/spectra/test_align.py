import numpy as np
import pytest

from crystaldos.datasets.base import DOSDataset, DOSRecord
from crystaldos.errors import DatasetError
from crystaldos.physics.electronic import band_gap
from crystaldos.spectra.align import fermi_to_midgap, fermi_to_vbm, shift_energy
from crystaldos.spectra.grid import EDOS_300


def jarvis_like_insulator() -> np.ndarray:
    """Occupied band up to -0.6 eV, empty to +2.4 eV, E = 0 at the Fermi level (JARVIS)."""
    e = EDOS_300.points
    return np.where((e > -3.0) & (e < -0.6), 1.0, 0.0) + np.where(e > 2.4, 0.5, 0.0)


def test_shift_conserves_area_and_moves_edges() -> None:
    y = jarvis_like_insulator()
    moved = shift_energy(y, EDOS_300, -0.6)  # every state 0.6 eV up
    inside = (EDOS_300.points > -4.0) & (EDOS_300.points < 9.0)
    assert moved[inside].sum() == pytest.approx(y[(EDOS_300.points > -4.6) &
                                                  (EDOS_300.points < 8.4)].sum(), rel=1e-9)
    gap = band_gap(EDOS_300, moved, 0.0)
    assert gap.vbm == pytest.approx(0.0, abs=0.051) and gap.gap == pytest.approx(3.0, abs=0.11)


def test_fermi_to_vbm_puts_the_valence_top_at_zero_and_leaves_metals() -> None:
    aligned = fermi_to_vbm(jarvis_like_insulator(), EDOS_300)
    gap = band_gap(EDOS_300, aligned, 0.0)
    assert abs(gap.vbm) <= 0.05 + 1e-9 and gap.cbm == pytest.approx(3.0, abs=0.11)
    metal = np.ones(EDOS_300.count)
    np.testing.assert_array_equal(fermi_to_vbm(metal, EDOS_300), metal)


def test_datasets_say_and_change_their_energy_zero() -> None:
    data = DOSDataset("jarvis-like", EDOS_300, "none",
                      [DOSRecord("a", None, jarvis_like_insulator())], energy_zero="fermi")
    aligned = data.aligned_to("vbm")
    assert aligned.energy_zero == "vbm" and data.split("train").energy_zero == "fermi"
    assert band_gap(EDOS_300, aligned[0].dos, 0.0).vbm == pytest.approx(0.0, abs=0.051)
    assert aligned.aligned_to("vbm") is aligned
    with pytest.raises(DatasetError, match="only from 'fermi' to 'vbm' or 'midgap'"):
        aligned.aligned_to("fermi")
    middle = data.aligned_to("midgap")
    assert middle.energy_zero == "midgap" and middle.name == "jarvis-like[midgap]"


def test_fermi_to_midgap_centres_the_gap_and_leaves_metals() -> None:
    aligned = fermi_to_midgap(jarvis_like_insulator(), EDOS_300)  # gap -0.6..+2.4 eV
    gap = band_gap(EDOS_300, aligned, 0.0)
    assert gap.vbm == pytest.approx(-1.5, abs=0.051) and gap.cbm == pytest.approx(1.5, abs=0.051)
    metal = np.ones(EDOS_300.count)
    np.testing.assert_array_equal(fermi_to_midgap(metal, EDOS_300), metal)


def test_the_jarvis_fixture_is_fermi_aligned(shared_datasets) -> None:
    from crystaldos.datasets.shared import load_jarvis_edos_sample50

    data = load_jarvis_edos_sample50(shared_datasets)
    assert data.energy_zero == "fermi"
    tops = [band_gap(data.grid, r.dos, 0.0) for r in data.records]
    gapped = [g for g in tops if g.gap > 0.2]
    assert gapped and np.median([g.vbm for g in gapped]) < -0.4  # gaps open below E = 0
    moved = [band_gap(data.grid, r.dos, 0.0) for r in data.aligned_to("vbm").records]
    assert all(abs(g.vbm) <= 0.06 for g in moved if g.gap > 0.2)


def test_jsonl_sets_carry_their_energy_zero(tmp_path) -> None:
    import json

    from crystaldos.datasets.jsonl import load_jsonl
    from tests.conftest import rocksalt

    rec = {**rocksalt().to_record(), "dos": jarvis_like_insulator().tolist(),
           "grid": EDOS_300.to_dict(), "energy_zero": "fermi"}
    (tmp_path / "set.jsonl").write_text(json.dumps(rec) + "\n")
    data = load_jsonl(tmp_path / "set.jsonl")
    assert data.energy_zero == "fermi" and data.aligned_to("vbm").energy_zero == "vbm"
