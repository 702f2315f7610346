"""Structures: read, validate, and hold crystals in one internal type."""

from crystaldos.structures.crystal import Crystal
from crystaldos.structures.readers import (
    from_arrays,
    from_ase,
    from_jarvis_atoms,
    from_pymatgen,
    from_record,
    read_structure,
    read_structures,
    to_crystal,
)
from crystaldos.structures.sources import StructureFailure, iter_inputs

__all__ = [
    "Crystal",
    "StructureFailure",
    "from_arrays",
    "from_ase",
    "from_jarvis_atoms",
    "from_pymatgen",
    "from_record",
    "iter_inputs",
    "read_structure",
    "read_structures",
    "to_crystal",
]
