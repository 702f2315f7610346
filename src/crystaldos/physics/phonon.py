"""Thermodynamics, Debye temperatures, isotope scattering and stability from a phonon DOS.

Conventions:

* A phonon DOS on a grid is turned into a discrete set of modes: one mode frequency per grid
  point (the bin centre) with weight ``g(nu) * step``, rescaled so that the weights sum to 3N, the
  number of modes of a cell of N atoms. Negative DOS values (a model's noise) are clipped to 0.
* Modes at negative frequency stand for imaginary frequencies (dynamical instability). They count
  towards the 3N, are reported by :func:`negative_mode_fraction`, and are left out of every thermal
  integral, as are modes at exactly zero frequency.
* Thermal quantities are harmonic, per cell, in SI (J/K, J); :mod:`crystaldos.physics.units`
  converts them per mole of formula units, per mole of atoms and per kg.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.physics.cell import checked_spectrum
from crystaldos.physics.constants import HBAR, K_B, angular_frequency
from crystaldos.spectra.grid import PHONON, Grid

#: default share of modes at negative frequency above which a material counts as unstable.
DEFAULT_STABILITY_THRESHOLD = 0.10


@dataclass(frozen=True)
class PhononModes:
    """A discrete set of phonon modes of one cell.

    Attributes:
        frequencies: (m,) mode frequencies in cm^-1 (negative = imaginary).
        weights: (m,) number of modes at each frequency; they sum to 3 N.
        n_atoms: atoms per cell, N.
        bin_width: grid step in cm^-1 when the modes come from a DOS on a grid (None for
            quadrature modes), so that ``weights / bin_width`` is the DOS in modes per cm^-1.
        covers_negative: whether the source spectrum could show negative frequencies at all.
    """

    frequencies: np.ndarray
    weights: np.ndarray
    n_atoms: int
    bin_width: float | None = None
    covers_negative: bool = True

    @property
    def n_modes(self) -> float:
        return float(self.weights.sum())

    @property
    def positive(self) -> np.ndarray:
        """Boolean mask of the modes that enter the thermal integrals (frequency > 0)."""
        return self.frequencies > 0

    @property
    def density(self) -> np.ndarray:
        """(m,) DOS in modes per cm^-1 per cell (needs modes from a grid)."""
        if self.bin_width is None:
            raise CrystalDosError("these modes do not come from a DOS on a grid")
        return self.weights / self.bin_width


def modes_from_dos(grid: Grid, values: np.ndarray, n_atoms: int) -> PhononModes:
    """Modes of a phonon DOS sampled on ``grid`` (any phonon unit; any normalization, since
    only the shape is used), rescaled to 3 ``n_atoms`` modes."""
    y = checked_spectrum(grid, values, PHONON)
    if int(n_atoms) < 1:
        raise CrystalDosError(f"n_atoms must be at least 1, got {n_atoms}")
    cm = grid.converted("cm^-1")
    y = np.clip(y, 0.0, None)
    area = y.sum() * cm.step
    if area <= 0:
        raise CrystalDosError("DOS has no positive values, so it cannot be scaled to 3N modes")
    weights = y * cm.step * (3.0 * n_atoms / area)
    return PhononModes(cm.points, weights, int(n_atoms), bin_width=cm.step,
                       covers_negative=bool(cm.start < 0))


def rescale_to_modes(grid: Grid, values: np.ndarray, n_atoms: int) -> np.ndarray:
    """(count,) the DOS in modes per grid unit per cell, integrating to 3 ``n_atoms``."""
    modes = modes_from_dos(grid, values, n_atoms)
    return modes.weights / grid.step


# -- thermodynamics ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ThermalProperties:
    """Harmonic thermodynamics of one cell at ``temperatures``.

    Attributes (each (t,) per cell, SI): heat_capacity (Cv, J/K), entropy (J/K),
    internal_energy (J, zero-point energy included), free_energy (Helmholtz, J).
    zero_point_energy is in J per cell; n_thermal_modes is the number of modes that entered.
    """

    temperatures: np.ndarray
    heat_capacity: np.ndarray
    entropy: np.ndarray
    internal_energy: np.ndarray
    free_energy: np.ndarray
    zero_point_energy: float
    n_atoms: int
    n_thermal_modes: float


def _temperatures(temperatures: float | Sequence[float] | np.ndarray) -> np.ndarray:
    t = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
    if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise CrystalDosError("temperatures must be finite and >= 0 K")
    return t


def thermal_properties(modes: PhononModes,
                       temperatures: float | Sequence[float] | np.ndarray) -> ThermalProperties:
    """Cv, S, U, F of the positive-frequency modes (mode formulas as in phonopy).

    With x = hbar omega / k_B T, per mode: Cv = k_B x^2 e^x / (e^x - 1)^2,
    S = k_B [x / (e^x - 1) - ln(1 - e^-x)], U = hbar omega (1/2 + 1 / (e^x - 1)),
    F = hbar omega / 2 + k_B T ln(1 - e^-x). At T = 0: Cv = S = 0 and U = F = zero-point energy.
    """
    t = _temperatures(temperatures)
    keep = modes.positive
    energy = HBAR * angular_frequency(modes.frequencies[keep], "cm^-1")  # J per mode
    w = modes.weights[keep]
    zpe = float(0.5 * energy @ w)
    cv = np.zeros_like(t)
    s = np.zeros_like(t)
    u = np.full_like(t, zpe)
    f = np.full_like(t, zpe)
    hot = t > 0
    if np.any(hot) and energy.size:
        kt = K_B * t[hot][:, None]
        x = energy[None, :] / kt
        em = np.exp(-x)
        om = -np.expm1(-x)  # 1 - e^-x, accurate for small x
        occupation = em / om  # 1 / (e^x - 1)
        cv[hot] = (K_B * x**2 * em / om**2) @ w
        s[hot] = (K_B * (x * occupation - np.log(om))) @ w
        u[hot] = (energy[None, :] * (0.5 + occupation)) @ w
        f[hot] = (0.5 * energy[None, :] + kt * np.log(om)) @ w
    return ThermalProperties(t, cv, s, u, f, zpe, modes.n_atoms, float(w.sum()))


# -- Debye temperatures -----------------------------------------------------------------------
def debye_temperature(modes: PhononModes, moment: float = 2.0) -> float:
    """Moment Debye temperature theta_D(n) in K from the positive-frequency modes.

    theta_D(n) = (hbar / k_B) [(n + 3) / 3 <omega^n>]^(1/n) for n > -3, n != 0, and
    theta_D(0) = (hbar / k_B) exp(1/3 + <ln omega>), with <.> the average over modes. Every n gives
    the cut-off of a Debye spectrum exactly. The default n = 2 is the one that fixes the
    high-temperature heat capacity and entropy (Grimvall, Thermophysical Properties of Materials).
    """
    if moment <= -3:
        raise CrystalDosError("the Debye moment must be greater than -3")
    keep = modes.positive
    w = modes.weights[keep]
    if w.sum() <= 0:
        raise CrystalDosError("no modes at positive frequency")
    omega = angular_frequency(modes.frequencies[keep], "cm^-1")
    if moment == 0:
        omega_d = np.exp(1.0 / 3.0 + (np.log(omega) @ w) / w.sum())
    else:
        mean = (omega**moment @ w) / w.sum()
        omega_d = ((moment + 3.0) / 3.0 * mean) ** (1.0 / moment)
    return float(HBAR * omega_d / K_B)


def debye_temperature_from_elastic(bulk_modulus_gpa: float, shear_modulus_gpa: float,
                                   density_g_cm3: float, atoms_per_volume_A3: float) -> float:
    """Debye temperature in K from isotropic elastic moduli (Anderson's method).

    v_l = sqrt((K + 4G/3) / rho), v_t = sqrt(G / rho), mean sound velocity
    v_m = [(2 / v_t^3 + 1 / v_l^3) / 3]^(-1/3), theta_D = (hbar / k_B) (6 pi^2 n)^(1/3) v_m with n
    atoms per volume.
    """
    values = (bulk_modulus_gpa, shear_modulus_gpa, density_g_cm3, atoms_per_volume_A3)
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise CrystalDosError("moduli, density and atom density must be positive")
    rho = density_g_cm3 * 1000.0  # kg/m^3
    k, g = bulk_modulus_gpa * 1e9, shear_modulus_gpa * 1e9
    v_l = np.sqrt((k + 4.0 * g / 3.0) / rho)
    v_t = np.sqrt(g / rho)
    v_m = ((2.0 / v_t**3 + 1.0 / v_l**3) / 3.0) ** (-1.0 / 3.0)
    return debye_temperature_from_sound_velocity(float(v_m), atoms_per_volume_A3)


def debye_temperature_from_sound_velocity(velocity_m_s: float,
                                          atoms_per_volume_A3: float) -> float:
    """theta_D = (hbar / k_B) (6 pi^2 n)^(1/3) v, for a sound velocity in m/s and n in 1/Å^3."""
    if not (velocity_m_s > 0 and atoms_per_volume_A3 > 0):
        raise CrystalDosError("sound velocity and atom density must be positive")
    n = atoms_per_volume_A3 * 1e30
    return float(HBAR / K_B * (6.0 * np.pi**2 * n) ** (1.0 / 3.0) * velocity_m_s)


def heat_capacity_at_debye_fraction(modes: PhononModes, fraction: float,
                                    moment: float = 2.0) -> float:
    """Cv in J/K per cell at T = ``fraction`` * theta_D(moment) of the same modes."""
    theta = debye_temperature(modes, moment)
    return float(thermal_properties(modes, fraction * theta).heat_capacity[0])


# -- isotope scattering -----------------------------------------------------------------------
def isotope_mass_variance(species: Sequence[str]) -> float:
    """Mass-variance parameter Gamma of natural isotopes for a cell with these atoms.

    Gamma = sum_n c_n sum_i f_in (m_in - m_n)^2 / m^2, with c_n the fraction of atoms of element n,
    f_in and m_in its natural isotope abundances and masses, m_n = sum_i f_in m_in and
    m = sum_n c_n m_n (isotope data from phonopy). Elements with no natural isotope mix (Tc, Pm,
    actinides) count with their standard mass and no variance. Natural Si: 2.0e-4, Ge: 5.9e-4.
    """
    from phonopy.structure.atomic_data import get_atomic_data

    table = get_atomic_data().isotope_data
    species = list(species)
    if not species:
        raise CrystalDosError("no atoms given")
    mean_mass = 0.0
    variance = 0.0
    for element in sorted(set(species)):
        c_n = species.count(element) / len(species)
        isotopes = table.get(element)
        abundance = np.array([iso[2] for iso in isotopes or ()], dtype=np.float64)
        if abundance.sum() <= 0:
            # no natural isotope mix (Tc, Pm, actinides...): one mass, no variance
            from crystaldos.elements import atomic_number, masses

            mean_mass += c_n * float(masses(np.array([atomic_number(element)]))[0])
            continue
        mass = np.array([iso[1] for iso in isotopes], dtype=np.float64)
        abundance = abundance / abundance.sum()
        m_n = float(abundance @ mass)
        mean_mass += c_n * m_n
        variance += c_n * float(abundance @ (mass - m_n) ** 2)
    return variance / mean_mass**2


def isotope_scattering_rates(modes: PhononModes, gamma: float) -> np.ndarray:
    """(m,) phonon-isotope scattering rate tau^-1(omega) in 1/s at each mode frequency (Tamura).

    tau^-1(omega) = (pi / 6) V_at Gamma omega^2 D(omega), where D is the DOS per unit volume and
    angular frequency with integral 3 / V_at, so V_at D(omega) is the DOS per atom g_at(omega)
    (integral 3). Modes at frequency <= 0 get rate 0.
    """
    if gamma < 0:
        raise CrystalDosError("Gamma must be >= 0")
    omega = angular_frequency(modes.frequencies, "cm^-1")
    d_omega_per_cm = angular_frequency(1.0, "cm^-1")
    g_atom = modes.density / modes.n_atoms / d_omega_per_cm  # modes per (rad/s) per atom
    rates = np.pi / 6.0 * gamma * omega**2 * g_atom
    return np.where(modes.positive, rates, 0.0)


def mean_isotope_scattering_rate(modes: PhononModes, gamma: float) -> float:
    """Mode-averaged isotope scattering rate in 1/s: the integral of tau^-1(omega) g(omega)
    d omega over positive frequencies divided by the number of positive modes."""
    rates = isotope_scattering_rates(modes, gamma)
    w = np.where(modes.positive, modes.weights, 0.0)
    if w.sum() <= 0:
        raise CrystalDosError("no modes at positive frequency")
    return float(rates @ w / w.sum())


# -- dynamical stability ----------------------------------------------------------------------
def negative_mode_fraction(modes: PhononModes) -> float:
    """Share of the 3N modes at negative (imaginary) frequency; NaN when the spectrum's grid
    starts at zero frequency, so that imaginary modes could not show."""
    if not modes.covers_negative:
        return float("nan")
    return float(modes.weights[modes.frequencies < 0].sum() / modes.weights.sum())


def is_dynamically_stable(modes: PhononModes,
                          threshold: float = DEFAULT_STABILITY_THRESHOLD) -> bool | None:
    """True when at most ``threshold`` of the modes are imaginary; None when unknown."""
    fraction = negative_mode_fraction(modes)
    if np.isnan(fraction):
        return None
    return bool(fraction <= threshold)
