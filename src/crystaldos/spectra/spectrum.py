"""A DOS that always carries its grid and the normalization its values are in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crystaldos.errors import SpectrumError
from crystaldos.spectra.grid import Grid
from crystaldos.spectra.normalize import NORMALIZATIONS, normalize


@dataclass(frozen=True, eq=False)
class Spectrum:
    """DOS values on a grid.

    Attributes:
        values: (grid.count,) float64 DOS, one value per grid point.
        grid: where the values live (start, step, count, unit, kind).
        normalization: one of :data:`NORMALIZATIONS`, what the values are divided by.
        scale: the factor that was divided out (values * scale is the un-normalized DOS), if known.
    """

    values: np.ndarray
    grid: Grid
    normalization: str = "none"
    scale: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64).reshape(-1)
        if values.size != self.grid.count:
            raise SpectrumError(f"spectrum has {values.size} values but its grid has "
                                f"{self.grid.count} points")
        if self.normalization not in NORMALIZATIONS:
            raise SpectrumError(f"unknown normalization {self.normalization!r}")
        object.__setattr__(self, "values", values)

    @property
    def area(self) -> float:
        """Integral over the grid, ``sum(values) * step``, in states (per cell or as normalized)."""
        return float(self.values.sum() * self.grid.step)

    def normalized(self, method: str, **context: Any) -> Spectrum:
        """A copy normalized by ``method`` from this spectrum's values (see normalize.py)."""
        values, factor = normalize(self.values, self.grid, method, **context)
        base = 1.0 if self.scale is None else self.scale
        return Spectrum(values, self.grid, method, float(factor) * base, dict(self.meta))

    def to_dict(self) -> dict[str, Any]:
        return {"grid": self.grid.to_dict(), "normalization": self.normalization,
                "scale": self.scale, "dos": self.values.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Spectrum:
        return cls(np.asarray(data["dos"]), Grid.from_dict(data["grid"]),
                   data.get("normalization", "none"), data.get("scale"))
