"""crystaldos: predict the electronic and phonon density of states of crystals."""

__version__ = "0.1.0"
