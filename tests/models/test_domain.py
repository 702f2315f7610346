from pathlib import Path

import numpy as np
import pytest

from crystaldos.models.domain import domain_notes, training_domain
from crystaldos.models.saving import load_model
from crystaldos.prediction import PredictionPipeline
from crystaldos.spectra.grid import PHDOS_51
from crystaldos.structures.readers import from_arrays
from tests.conftest import rocksalt, toy_crystals


def test_training_domain_counts_materials_per_element() -> None:
    domain = training_domain(toy_crystals(12))
    assert domain["n_materials"] == 12 and domain["elements"]["Na"] == 2


def test_notes_for_unseen_elements_and_a_spectrum_cut_by_the_grid() -> None:
    domain = training_domain([rocksalt()])
    helium = from_arrays(np.eye(3) * 3.0, ["He"], frac_coords=[[0, 0, 0]], id="he")
    peak_at_top = np.exp(-((PHDOS_51.points - 1000.0) / 60.0) ** 2)
    notes = domain_notes(helium, domain, PHDOS_51, peak_at_top)
    assert notes[0].startswith("element He never seen in training")
    assert "reaches the top of the grid (1000 cm^-1)" in notes[1]
    inside = np.exp(-((PHDOS_51.points - 400.0) / 60.0) ** 2)
    assert domain_notes(rocksalt(), domain, PHDOS_51, inside) == []


def test_rows_carry_the_notes(tiny_model_dir: Path) -> None:
    bundle = load_model(tiny_model_dir)
    assert "Cu" not in bundle.card["domain"]["elements"]
    copper = from_arrays(np.eye(3) * 2.6, ["Cu"],
                         frac_coords=[[0, 0, 0]], id="cu")
    row = next(iter(PredictionPipeline(bundle).run([copper])))
    assert "element Cu never seen in training" in row.values["note"]


def test_composition_distance_is_zero_for_seen_and_grows_with_novelty() -> None:
    from crystaldos.models.domain import CompositionDistance, training_domain
    from crystaldos.structures.readers import from_arrays
    from tests.conftest import rocksalt, silicon_primitive

    def salt(a: str, b: str):
        return from_arrays(np.eye(3) * 3.0, [a, b], frac_coords=[[0, 0, 0], [0.5, 0.5, 0.5]])

    domain = training_domain([rocksalt(), silicon_primitive(), salt("K", "Cl"),
                              salt("Na", "Br")])
    assert domain["compositions"] == ["KCl", "NaBr", "NaCl", "Si"]
    assert domain["composition_scale"] == pytest.approx(np.sqrt(0.5))  # NaCl-KCl, NaCl-NaBr
    score = CompositionDistance(domain)
    assert score(salt("Cl", "Na")) == 0.0  # NaCl, another cell
    assert score(salt("K", "Br")) == pytest.approx(1.0)  # one swap from KCl and from NaBr
    assert score(salt("Mg", "O")) > score(salt("K", "Br"))  # nothing in common
    assert CompositionDistance({"elements": {"Na": 1}})(rocksalt()) is None  # an older card
