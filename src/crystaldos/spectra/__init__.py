"""Spectra: grids, spectra, area-conserving resampling and invertible normalizations."""

from crystaldos.spectra.grid import (
    EDOS_128,
    EDOS_300,
    ELECTRONIC,
    PHDOS_51,
    PHDOS_66,
    PHDOS_221,
    PHONON,
    PRESETS,
    Grid,
    preset,
)
from crystaldos.spectra.normalize import (
    NORMALIZATIONS,
    BinStandardizer,
    denormalize,
    normalization_factor,
    normalize,
)
from crystaldos.spectra.resample import rebin, rebin_matrix, resample, smear_levels
from crystaldos.spectra.spectrum import Spectrum

__all__ = [
    "EDOS_128", "EDOS_300", "ELECTRONIC", "NORMALIZATIONS", "PHDOS_51", "PHDOS_66",
    "PHDOS_221", "PHONON", "PRESETS", "BinStandardizer", "Grid", "Spectrum", "denormalize",
    "normalization_factor", "normalize", "preset", "rebin", "rebin_matrix", "resample",
    "smear_levels",
]
