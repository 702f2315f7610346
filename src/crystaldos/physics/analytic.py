"""Analytic phonon spectra: the Debye model and the Born-von Karman (sine-dispersion) model.

Both put 3N modes uniformly in a Debye sphere of wavevectors, s = k / k_D in [0, 1] with
weight 3 s^2 ds, and differ in the dispersion: Debye nu = nu_D s; Born-von Karman
nu = nu_max sin(pi s / 2), which has the same sound velocity as the Debye model when
nu_max = (2 / pi) nu_D. Thermal sums use Gauss-Legendre quadrature in s (smooth integrands,
so a few hundred points are exact to ~1e-10); DOS on a grid are exact bin averages of the
cumulative mode count.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import integrate

from crystaldos.errors import CrystalDosError
from crystaldos.physics.constants import (
    K_B,
    wavenumber_from_temperature,
)
from crystaldos.physics.phonon import PhononModes, debye_temperature
from crystaldos.spectra.grid import PHONON, Grid

DEBYE = "debye"
BVK = "bvk"
MODELS = (DEBYE, BVK)


def _check(theta: float, n_atoms: int) -> None:
    if not (np.isfinite(theta) and theta > 0):
        raise CrystalDosError(f"Debye temperature must be positive, got {theta}")
    if int(n_atoms) < 1:
        raise CrystalDosError(f"n_atoms must be at least 1, got {n_atoms}")


def bvk_max_frequency(theta_debye: float) -> float:
    """nu_max in cm^-1 of the Born-von Karman model with the sound velocity of a Debye model of
    temperature ``theta_debye`` (nu_max = 2 nu_D / pi)."""
    return 2.0 / np.pi * wavenumber_from_temperature(theta_debye)


def _dispersion(model: str, s: np.ndarray, theta: float) -> np.ndarray:
    nu_d = wavenumber_from_temperature(theta)
    if model == DEBYE:
        return nu_d * s
    if model == BVK:
        return bvk_max_frequency(theta) * np.sin(0.5 * np.pi * s)
    raise CrystalDosError(f"unknown analytic model {model!r}; choose from {MODELS}")


def analytic_modes(model: str, theta_debye: float, n_atoms: int,
                   points: int = 256) -> PhononModes:
    """Quadrature modes (frequencies in cm^-1, weights summing to 3N) of a Debye or BvK model."""
    _check(theta_debye, n_atoms)
    nodes, weights = np.polynomial.legendre.leggauss(points)
    s = 0.5 * (nodes + 1.0)
    w = 0.5 * weights * 3.0 * s**2 * 3.0 * n_atoms
    return PhononModes(_dispersion(model, s, theta_debye), w, int(n_atoms), bin_width=None,
                       covers_negative=False)


def _cumulative_fraction(model: str, nu: np.ndarray, theta: float) -> np.ndarray:
    """Share of modes below nu (cm^-1)."""
    nu = np.clip(nu, 0.0, None)
    if model == DEBYE:
        return np.clip(nu / wavenumber_from_temperature(theta), 0.0, 1.0) ** 3
    if model == BVK:
        ratio = np.clip(nu / bvk_max_frequency(theta), 0.0, 1.0)
        return (2.0 / np.pi * np.arcsin(ratio)) ** 3
    raise CrystalDosError(f"unknown analytic model {model!r}; choose from {MODELS}")


def analytic_dos(model: str, grid: Grid, theta_debye: float, n_atoms: int) -> np.ndarray:
    """(count,) DOS of the model on ``grid`` in modes per grid unit per cell (bin averages, so
    the values sum to 3N / step when the grid covers the whole spectrum)."""
    _check(theta_debye, n_atoms)
    if grid.kind != PHONON:
        raise CrystalDosError(f"expected a phonon grid, got a {grid.kind} grid")
    edges = grid.converted("cm^-1").edges
    counts = np.diff(_cumulative_fraction(model, edges, theta_debye)) * 3.0 * n_atoms
    return counts / grid.step


def debye_dos(grid: Grid, theta_debye: float, n_atoms: int) -> np.ndarray:
    """Debye DOS g(nu) = 9 N nu^2 / nu_D^3 below nu_D, bin-averaged on ``grid``."""
    return analytic_dos(DEBYE, grid, theta_debye, n_atoms)


def bvk_dos(grid: Grid, theta_debye: float, n_atoms: int) -> np.ndarray:
    """Born-von Karman DOS 9N (2/pi)^3 arcsin^2(nu/nu_max) / sqrt(nu_max^2 - nu^2), bin-averaged."""
    return analytic_dos(BVK, grid, theta_debye, n_atoms)


def matched_debye_temperature(model: str, modes: PhononModes, moment: float = 2.0) -> float:
    """The ``model``'s Debye-temperature parameter whose spectrum has the same frequency
    moment <omega^n> (n = ``moment``) as ``modes``. For Debye this is theta_D(n) itself."""
    theta = debye_temperature(modes, moment)
    if model == DEBYE:
        return theta
    # theta_D(n) of the model scales linearly with its parameter: measure it once at theta = 1 K.
    unit = debye_temperature(analytic_modes(model, 1.0, 1), moment)
    return theta / unit


def debye_heat_capacity(temperatures: float | Sequence[float] | np.ndarray,
                        theta_debye: float, n_atoms: int) -> np.ndarray:
    """Debye-function Cv in J/K per cell: 9 N k_B (T/theta)^3 int_0^{theta/T} x^4 e^x /
    (e^x - 1)^2 dx, by adaptive quadrature (independent of the mode machinery)."""
    _check(theta_debye, n_atoms)
    out = []
    for t in np.atleast_1d(np.asarray(temperatures, dtype=np.float64)):
        if t <= 0:
            out.append(0.0)
            continue
        upper = theta_debye / t

        def integrand(x: float) -> float:
            if x < 1e-8:
                return x**2
            em = np.exp(-x)
            return x**4 * em / (-np.expm1(-x)) ** 2

        value, _ = integrate.quad(integrand, 0.0, upper, epsabs=0, epsrel=1e-12, limit=200)
        out.append(9.0 * n_atoms * K_B * value / upper**3)
    return np.asarray(out)


__all__ = ["BVK", "DEBYE", "MODELS", "analytic_dos", "analytic_modes", "bvk_dos",
           "bvk_max_frequency", "debye_dos", "debye_heat_capacity",
           "matched_debye_temperature"]
