"""Uniform energy / frequency grids that travel with every spectrum, and the reference presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from crystaldos.errors import SpectrumError

ELECTRONIC = "electronic"
PHONON = "phonon"
KINDS = (ELECTRONIC, PHONON)

#: units allowed per kind; phonon frequencies convert between these exactly.
UNITS = {ELECTRONIC: ("eV",), PHONON: ("cm^-1", "THz", "meV")}


def _cm1_per_unit(unit: str) -> float:
    """Size of one unit in cm^-1, from the one table of physical constants (scipy's CODATA)."""
    from crystaldos.physics.constants import MEV_TO_CM1, THZ_TO_CM1

    return {"cm^-1": 1.0, "THz": THZ_TO_CM1, "meV": MEV_TO_CM1}[unit]


@dataclass(frozen=True)
class Grid:
    """A uniform grid of ``count`` points ``start + step * k`` (k = 0..count-1).

    Each point is the centre of a bin of width ``step``; a spectrum on the grid holds one DOS value
    per point, in states per ``unit`` (per cell unless its normalization says otherwise).
    """

    start: float
    step: float
    count: int
    unit: str
    kind: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", float(self.start))
        object.__setattr__(self, "step", float(self.step))
        object.__setattr__(self, "count", int(self.count))
        if self.kind not in KINDS:
            raise SpectrumError(f"grid kind must be one of {KINDS}, got {self.kind!r}")
        if self.unit not in UNITS[self.kind]:
            raise SpectrumError(f"a {self.kind} grid takes units {UNITS[self.kind]}, "
                                f"got {self.unit!r}")
        if not (np.isfinite(self.start) and np.isfinite(self.step)) or self.step <= 0:
            raise SpectrumError(f"grid step must be a positive number, got {self.step}")
        if self.count < 2:
            raise SpectrumError(f"a grid needs at least 2 points, got {self.count}")

    @property
    def points(self) -> np.ndarray:
        """(count,) bin centres in ``unit``."""
        return self.start + self.step * np.arange(self.count, dtype=np.float64)

    @property
    def stop(self) -> float:
        """The last point (inclusive)."""
        return self.start + self.step * (self.count - 1)

    @property
    def edges(self) -> np.ndarray:
        """(count + 1,) bin edges: each point +- step / 2."""
        return self.start - 0.5 * self.step + self.step * np.arange(self.count + 1,
                                                                     dtype=np.float64)

    def converted(self, unit: str) -> Grid:
        """The same grid expressed in another phonon unit (cm^-1, THz, meV)."""
        if unit == self.unit:
            return self
        if self.kind != PHONON or unit not in UNITS[PHONON]:
            raise SpectrumError(f"cannot convert a {self.kind} grid from {self.unit} to {unit}")
        factor = _cm1_per_unit(self.unit) / _cm1_per_unit(unit)
        return Grid(self.start * factor, self.step * factor, self.count, unit, self.kind)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Grid:
        try:
            return cls(data["start"], data["step"], data["count"], data["unit"],
                       data.get("kind", ELECTRONIC if data["unit"] == "eV" else PHONON))
        except KeyError as exc:
            raise SpectrumError(f"grid description lacks {exc.args[0]!r}") from None

    @classmethod
    def from_points(cls, points: np.ndarray, unit: str, kind: str, rtol: float = 1e-6) -> Grid:
        """Recognise a uniform grid from its points (raises if they are not evenly spaced)."""
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 1 or points.size < 2:
            raise SpectrumError("a grid needs at least 2 points")
        steps = np.diff(points)
        step = (points[-1] - points[0]) / (points.size - 1)
        if step <= 0 or np.max(np.abs(steps - step)) > rtol * max(abs(step), 1e-12) * 100:
            raise SpectrumError("points are not evenly spaced and increasing")
        return cls(points[0], step, points.size, unit, kind)


#: eDOS of the ALIGNN eDOS work: -5 <= E < 10 eV relative to E_F, 0.05 eV step, 300 points.
EDOS_300 = Grid(-5.0, 0.05, 300, "eV", ELECTRONIC)
#: eDOS of Mat2Spec / Xtal2DoS: 128 points from -4 eV with 1/16 eV step (to 3.9375 eV).
EDOS_128 = Grid(-4.0, 0.0625, 128, "eV", ELECTRONIC)
#: JARVIS leaderboard / ALIGNN phDOS: -300..1000 cm^-1, 20 cm^-1 step, 66 points.
PHDOS_66 = Grid(-300.0, 20.0, 66, "cm^-1", PHONON)
#: Materials Project phonon set (e3nn, Mat2Spec, Xtal2DoS): 0..1000 cm^-1, 20 cm^-1, 51 points.
PHDOS_51 = Grid(0.0, 20.0, 51, "cm^-1", PHONON)

#: Universal phonon grid: -300..4100 cm^-1, 20 cm^-1, 221 points. Holds the modes of light
#: atoms (H stretches near 4000 cm^-1) and imaginary modes to -300 cm^-1; the phdos66 and
#: phdos51 points are subsets of it, so a prediction moves onto them exactly (see
#: data/phonondb/summary.json for the share of phonondb modes outside it).
PHDOS_221 = Grid(-300.0, 20.0, 221, "cm^-1", PHONON)

PRESETS: dict[str, Grid] = {"edos300": EDOS_300, "edos128": EDOS_128, "phdos66": PHDOS_66,
                            "phdos51": PHDOS_51, "phdos221": PHDOS_221}


def preset(name: str) -> Grid:
    """A preset grid by name: edos300, edos128, phdos66, phdos51, phdos221."""
    try:
        return PRESETS[name]
    except KeyError:
        raise SpectrumError(f"unknown grid preset {name!r}; choose from {sorted(PRESETS)}") \
            from None
