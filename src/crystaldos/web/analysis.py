"""One structure through every model: spectra, properties and thermal curves for the page.

Inference goes through :class:`~crystaldos.prediction.pipeline.PredictionPipeline`, the same
path as ``crystaldos predict``; this module only arranges its rows for plotting and download.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.physics.properties import thermal_column
from crystaldos.prediction.schema import std_column
from crystaldos.spectra.grid import ELECTRONIC, PHONON
from crystaldos.structures.crystal import Crystal

#: properties shown in the page's table: column -> (label, unit).
PHONON_SHOWN = {
    "debye_temperature_K": ("Debye temperature", "K"),
    "cv_J_per_molK_300K": ("Cv at 300 K", "J/(mol K) per formula unit"),
    "s_J_per_molK_300K": ("S at 300 K", "J/(mol K) per formula unit"),
    "f_kJ_per_mol_300K": ("F at 300 K", "kJ/mol per formula unit"),
    "zero_point_energy_kJ_per_mol": ("zero-point energy", "kJ/mol per formula unit"),
    "negative_mode_fraction": ("share of imaginary modes", ""),
    "stable": ("dynamically stable", ""),
    "ood_score": ("out-of-domain score (composition; 0 = seen, ~1 = typical new)", ""),
}
ELECTRONIC_SHOWN = {
    "band_gap_eV": ("band gap", "eV"),
    "electronic_class": ("class", ""),
    "vbm_eV": ("valence band top", "eV"),
    "cbm_eV": ("conduction band bottom", "eV"),
    "dos_at_fermi_states_per_eV": ("DOS at E_F", "states/eV per cell"),
    "sommerfeld_mJ_per_molK2": ("Sommerfeld coefficient", "mJ/(mol K^2) per formula unit"),
    "ood_score": ("out-of-domain score (composition; 0 = seen, ~1 = typical new)", ""),
}

#: shown first for electronic models with direct heads (crystaldos.models.electronic_heads) or
#: gap trees (crystaldos.prediction.band_gap): predicted directly, not read off the DOS
HEADS_SHOWN = {
    "band_gap_direct_eV": ("band gap (direct)", "eV"),
    "metal_probability": ("probability of a metal (direct)", ""),
}


@dataclass
class ModelEntry:
    """A model the page offers: its name, kind (phonon/electronic) and card."""

    name: str
    kind: str
    card: dict[str, Any]


class ModelRegistry:
    """The models of the page, read from their cards at once and loaded on first use."""

    def __init__(self, names: list[str] | None = None, device: str = "cpu") -> None:
        from crystaldos.models.saving import read_card
        from crystaldos.pretrained import bundled_models, resolve_model

        if not names:  # every bundled model once (aliases point to the same directory)
            seen: dict[Path, str] = {}
            for name, directory in bundled_models().items():
                seen.setdefault(directory, name)
            names = sorted(seen.values())
        self.device = device
        self.entries: dict[str, ModelEntry] = {}
        self._paths: dict[str, Path] = {}
        for name in names:
            path = resolve_model(name)
            card = read_card(path)
            label = Path(name).name if (Path(name) / "card.json").exists() else name
            self.entries[label] = ModelEntry(label, card["grid"]["kind"], card)
            self._paths[label] = path
        if not self.entries:
            raise CrystalDosError("no models to serve")
        self._bundles: dict[str, Any] = {}
        self._lock = threading.Lock()

    def names(self, kind: str | None = None) -> list[str]:
        return [n for n, e in self.entries.items() if kind is None or e.kind == kind]

    def bundle(self, name: str) -> Any:
        """The loaded model ``name`` (loaded once, shared by every request)."""
        from crystaldos.models.saving import load_model

        if name not in self.entries:
            raise CrystalDosError(f"{name}: not one of the served models "
                                  f"({', '.join(self.entries)})")
        with self._lock:
            if name not in self._bundles:
                self._bundles[name] = load_model(self._paths[name], device=self.device)
            return self._bundles[name]


def temperature_range(t_min: float, t_max: float, points: int = 60) -> list[float]:
    """``points`` temperatures from ``t_min`` to ``t_max`` K (300 K always included)."""
    if not (0 < t_min < t_max <= 5000):
        raise CrystalDosError(f"temperature range {t_min:g}..{t_max:g} K: need "
                              "0 < min < max <= 5000 K")
    temps = set(np.round(np.linspace(t_min, t_max, points), 2).tolist()) | {300.0}
    return sorted(float(t) for t in temps)


def structure_view(crystal: Crystal) -> dict[str, Any]:
    """What the page shows of a structure: formulas, cell lengths and angles, atoms (Å)."""
    from crystaldos.physics.cell import CellInfo

    lengths = np.linalg.norm(crystal.lattice, axis=1)
    a, b, c = crystal.lattice

    def angle(u: np.ndarray, v: np.ndarray) -> float:
        return float(np.degrees(np.arccos(np.clip(u @ v / np.linalg.norm(u) /
                                                  np.linalg.norm(v), -1, 1))))

    return {"id": crystal.id, "formula": CellInfo.from_crystal(crystal).reduced_formula,
            "cell_formula": crystal.formula, "n_atoms": crystal.n_atoms,
            "volume_A3": round(float(crystal.volume), 4),
            "lengths_A": [round(float(x), 4) for x in lengths],
            "angles_deg": [round(angle(b, c), 3), round(angle(a, c), 3), round(angle(a, b), 3)],
            "lattice": np.round(crystal.lattice, 5).tolist(), "species": crystal.species,
            "positions": np.round(crystal.positions, 5).tolist()}


def _clean(value: Any) -> Any:
    from crystaldos.prediction.schema import plain_value

    return plain_value(value)


def _interval95(values: dict[str, Any], column: str) -> list[float] | None:
    """[low, high] of the 95 % interval the row gives for ``column`` (the gap trees' band gap
    interval, :func:`crystaldos.prediction.band_gap.interval_columns`), or None."""
    from crystaldos.prediction.band_gap import interval_columns

    low, high = interval_columns(0.95)
    if column != "band_gap_direct_eV" or values.get(low) is None:
        return None
    return [_clean(values[low]), _clean(values[high])]


def predict_one(crystal: Crystal, registry: ModelRegistry, temperatures: list[float],
                ) -> dict[str, Any]:
    """Spectra, shown properties and Cv(T)/S(T) of ``crystal`` from every served model.

    Returns ``{"structure": ..., "models": [...]}``; each model entry has ``name``, ``kind``,
    ``unit`` (cm^-1 or eV), ``x``, ``dos`` (phonon: max-normalized; electronic: the model's
    own normalization), ``dos_std`` (ensembles: the per-bin one-sigma spread),
    ``normalization``, ``properties`` ({column: {label, unit, value, std, interval95}}),
    ``note``, ``caveat``; phonon entries also ``curves`` ({T, cv, s} per formula unit). A
    model that fails for this structure comes with ``error`` instead.
    """
    from crystaldos.prediction.pipeline import PredictionPipeline
    from crystaldos.prediction.schema import Failure

    entries = []
    for name in registry.names():
        entry = registry.entries[name]
        item: dict[str, Any] = {"name": name, "kind": entry.kind,
                                "caveat": entry.card.get("caveat", "")}
        temps = temperatures if entry.kind == PHONON else [300.0]
        # phonon spectra side by side: each scaled to its maximum (the models differ in their
        # own normalization); properties do not depend on it (they rescale to 3N modes)
        pipeline = PredictionPipeline(registry.bundle(name), properties=True,
                                      temperatures=temps, device=registry.device,
                                      normalization="max" if entry.kind == PHONON else None)
        (row,) = list(pipeline.run([crystal]))
        if isinstance(row, Failure):
            item["error"] = row.reason
            entries.append(item)
            continue
        grid = row.spectrum.grid
        x = grid.converted("cm^-1").points if grid.kind == PHONON else grid.points
        shown = PHONON_SHOWN if entry.kind == PHONON else ELECTRONIC_SHOWN
        if "metal_probability" in row.values:
            shown = {**HEADS_SHOWN, **shown}
        item.update({
            "unit": "cm^-1" if grid.kind == PHONON else grid.unit,
            "x": np.round(x, 5).tolist(), "dos": np.round(row.dos, 6).tolist(),
            "normalization": row.spectrum.normalization, "note": row.values.get("note", ""),
            "properties": {col: {"label": label, "unit": unit,
                                 "value": _clean(row.values.get(col)),
                                 "std": _clean(row.values.get(std_column(col))),
                                 "interval95": _interval95(row.values, col)}
                           for col, (label, unit) in shown.items()}})
        if row.spread is not None:  # an ensemble: calibrated one-sigma spread per bin
            item["dos_std"] = np.round(row.spread.values, 6).tolist()
        if entry.kind == PHONON:
            item["curves"] = {
                "T": temps,
                "cv": [_clean(row.values.get(thermal_column("cv", "mol", t))) for t in temps],
                "s": [_clean(row.values.get(thermal_column("s", "mol", t))) for t in temps]}
        entries.append(item)
    return {"structure": structure_view(crystal), "models": entries}


def spectra_csv(result: dict[str, Any]) -> str:
    """One line per model and grid point: model, kind, x and its unit, DOS, normalization."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["model", "kind", "x", "unit", "dos", "normalization"])
    for m in result["models"]:
        for x, y in zip(m.get("x", []), m.get("dos", []), strict=True):
            writer.writerow([m["name"], m["kind"], x, m["unit"], y, m["normalization"]])
    return out.getvalue()


def properties_csv(result: dict[str, Any]) -> str:
    """One line per model and property (the shown table, then Cv(T) and S(T))."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["model", "property", "value", "unit"])
    for m in result["models"]:
        for column, p in m.get("properties", {}).items():
            writer.writerow([m["name"], column, p["value"], p["unit"]])
        curves = m.get("curves")
        if curves:
            for t, cv, s in zip(curves["T"], curves["cv"], curves["s"], strict=True):
                writer.writerow([m["name"], thermal_column("cv", "mol", t), cv, "J/(mol K)"])
                writer.writerow([m["name"], thermal_column("s", "mol", t), s, "J/(mol K)"])
    return out.getvalue()


def save_result(result: dict[str, Any], folder: Path) -> None:
    """``result.json``, ``spectra.csv`` and ``properties.csv`` in ``folder`` (atomically)."""
    from crystaldos.safe_io import atomic_write_text

    atomic_write_text(folder / "spectra.csv", spectra_csv(result))
    atomic_write_text(folder / "properties.csv", properties_csv(result))
    atomic_write_text(folder / "result.json", json.dumps(result) + "\n")


__all__ = ["ELECTRONIC", "ModelRegistry", "predict_one", "save_result", "temperature_range"]
