"""Physical constants (CODATA, through scipy) and frequency conversions used by the physics layer.

All thermal quantities are computed in SI: frequencies as angular frequency omega in rad/s,
energies in J. Grid units convert as omega = 2 pi c nu~ (cm^-1), 2 pi f (THz), E / hbar (meV).
"""

from __future__ import annotations

import numpy as np
from scipy import constants as _c

#: Boltzmann constant, J/K.
K_B = _c.k
#: reduced Planck constant, J s.
HBAR = _c.hbar
#: Planck constant, J s.
H = _c.h
#: Avogadro constant, 1/mol.
N_A = _c.N_A
#: molar gas constant R = N_A k_B, J/(mol K).
R_GAS = _c.R
#: elementary charge (J per eV).
EV = _c.e
#: atomic mass unit, kg.
AMU = _c.atomic_mass
#: speed of light in cm/s.
C_CM_PER_S = _c.c * 100.0
#: wavenumbers (cm^-1) of one THz: 1e12 / c (about 33.356).
THZ_TO_CM1 = 1e12 / C_CM_PER_S
#: wavenumbers (cm^-1) of one meV: E / (h c) (about 8.0655).
MEV_TO_CM1 = 1e-3 * EV / (H * C_CM_PER_S)

#: angular frequency (rad/s) of one unit of each phonon grid unit.
_OMEGA_PER_UNIT = {
    "cm^-1": 2.0 * np.pi * C_CM_PER_S,
    "THz": 2.0 * np.pi * 1e12,
    "meV": 1e-3 * EV / HBAR,
}


def angular_frequency(values: np.ndarray | float, unit: str) -> np.ndarray:
    """Angular frequency omega in rad/s of frequencies given in ``unit`` (cm^-1, THz or meV)."""
    try:
        factor = _OMEGA_PER_UNIT[unit]
    except KeyError:
        raise ValueError(f"unknown frequency unit {unit!r}; use one of "
                         f"{sorted(_OMEGA_PER_UNIT)}") from None
    return np.asarray(values, dtype=np.float64) * factor


def wavenumber_from_temperature(temperature: float) -> float:
    """The frequency in cm^-1 whose quantum h c nu~ equals k_B T (1 K = 0.695 cm^-1)."""
    return float(K_B * temperature / (H * C_CM_PER_S))
