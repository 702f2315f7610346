import numpy as np
import pytest

from crystaldos.plotting import element_means, periodic_table_heatmap, spectra_panels


def test_element_means_average_over_materials_containing_each_element() -> None:
    means = element_means([["Na", "Cl"], ["Na", "O"], ["Na", "Na", "O"]], [1.0, 3.0, float("nan")])
    assert means == {"Na": (2.0, 2), "Cl": (1.0, 1), "O": (3.0, 1)}


def test_heatmap_and_panels_write_pngs(tmp_path) -> None:
    path = periodic_table_heatmap({"Na": 1.0, "Cl": 2.5, "La": 0.3, "U": 1.1},
                                  tmp_path / "t.png", title="gap", label="eV",
                                  counts={"Na": 3})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    x = np.linspace(-5, 10, 300)
    panel = spectra_panels(x, [("a", {"true": np.sin(x), "pred": np.cos(x)})], tmp_path / "p.png")
    assert panel.stat().st_size > 1000
    with pytest.raises(ValueError, match="no finite values"):
        periodic_table_heatmap({"Na": float("nan")}, tmp_path / "n.png")
