"""ASE calculators backed by crystaldos models."""

from crystaldos.calculators.tinynet import TinyNetCalculator

__all__ = ["TinyNetCalculator"]
