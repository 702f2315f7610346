"""Exceptions that carry a one-line, user-facing message naming the input and the problem."""

from __future__ import annotations


class CrystalDosError(Exception):
    """Base class of every error crystaldos raises on purpose."""


class SourcedError(CrystalDosError, ValueError):
    """An error about one input; ``str(err)`` is one line: ``"<source>: <problem>"``."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = str(source)
        self.problem = " ".join(str(problem).split())  # keep it on one line
        super().__init__(f"{self.source}: {self.problem}")


class StructureError(SourcedError):
    """A structure could not be read or is not a valid periodic crystal."""


class DatasetError(SourcedError):
    """A data set file is missing, malformed or inconsistent; the message names the file."""


class SpectrumError(CrystalDosError, ValueError):
    """A spectrum or grid is inconsistent (wrong length, unit, negative step...)."""
