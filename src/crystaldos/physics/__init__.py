"""Physics from the DOS: pure numpy/scipy, no model code.

* :mod:`~crystaldos.physics.phonon`: modes from a phonon DOS, Cv, S, U, F, Debye temperatures,
  isotope scattering, dynamical stability.
* :mod:`~crystaldos.physics.analytic`: Debye and Born-von Karman spectra.
* :mod:`~crystaldos.physics.electronic`: band gap, DOS at E_F, metal/insulator, Sommerfeld gamma.
* :mod:`~crystaldos.physics.properties`: one row of named properties per material.
"""

from crystaldos.physics.cell import CellInfo
from crystaldos.physics.electronic import (
           BandGap,
           band_gap,
           classify,
           dos_at_energy,
           sommerfeld_coefficient,
)
from crystaldos.physics.phonon import (
           PhononModes,
           ThermalProperties,
           debye_temperature,
           is_dynamically_stable,
           isotope_mass_variance,
           mean_isotope_scattering_rate,
           modes_from_dos,
           negative_mode_fraction,
           thermal_properties,
)

__all__ = ["BandGap", "CellInfo", "PhononModes", "ThermalProperties", "band_gap", "classify",
           "debye_temperature", "dos_at_energy", "is_dynamically_stable",
           "isotope_mass_variance", "mean_isotope_scattering_rate", "modes_from_dos",
           "negative_mode_fraction", "sommerfeld_coefficient", "thermal_properties"]
