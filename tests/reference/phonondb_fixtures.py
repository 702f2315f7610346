"""Self-made phonondb archives: fcc Cu (EMT forces) in the Kyoto layout, so nothing in the tests
needs the real source."""

from __future__ import annotations

import gzip
import io
import json
import lzma
import tarfile
import tempfile
from pathlib import Path

import numpy as np

CONF = "DIM = 2 0 0 0 2 0 0 0 2\nPRIMITIVE_AXIS = 0 1/2 1/2 1/2 0 1/2 1/2 1/2 0\n"


def cu_archive_files(a: float = 3.61) -> dict[str, str]:
    """POSCAR-unitcell, phonopy.conf and FORCE_SETS of conventional fcc Cu with EMT forces."""
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from phonopy import Phonopy
    from phonopy.file_IO import write_FORCE_SETS
    from phonopy.interface.vasp import write_vasp
    from phonopy.structure.atoms import PhonopyAtoms

    atoms = bulk("Cu", "fcc", a=a, cubic=True)
    unit = PhonopyAtoms(symbols=atoms.get_chemical_symbols(), cell=atoms.cell[:],
                        scaled_positions=atoms.get_scaled_positions())
    ph = Phonopy(unit, supercell_matrix=2 * np.eye(3, dtype=int))
    ph.generate_displacements(distance=0.01)
    forces = []
    for cell in ph.supercells_with_displacements:
        from ase import Atoms

        sc = Atoms(cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions, pbc=True)
        sc.calc = EMT()
        forces.append(sc.get_forces())
    ph.forces = np.array(forces)
    with tempfile.TemporaryDirectory() as folder:
        write_vasp(f"{folder}/POSCAR-unitcell", unit)
        write_FORCE_SETS(ph.dataset, f"{folder}/FORCE_SETS")
        return {"POSCAR-unitcell": Path(f"{folder}/POSCAR-unitcell").read_text(),
                "FORCE_SETS": Path(f"{folder}/FORCE_SETS").read_text(), "phonopy.conf": CONF}


def pack_archive(files: dict[str, str], folder_name: str = "mp-30-20180417") -> bytes:
    """The files as a ``.tar.lzma`` archive with one top folder, as phonondb ships them."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{folder_name}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return lzma.compress(buffer.getvalue())


def make_source(root: Path, entries: list[tuple[str, str, bytes | None]]) -> Path:
    """A checkout-like folder of archives and its ``index.jsonl.gz``: entries are
    (mp_id, split, archive bytes or None for a missing file). Returns the index path."""
    lines = []
    (root / "phonon_db_tarred").mkdir(parents=True, exist_ok=True)
    for n, (mp_id, split, data) in enumerate(entries):
        archive = f"phonon_db_tarred/materials-id-{n}-cu-fm-3m-225.tar.lzma"
        if data is not None:
            (root / archive).write_bytes(data)
        lines.append(json.dumps({"mp_id": mp_id, "archive": archive, "formula": "Cu",
                                 "natoms": 4, "split": split}))
    index = root / "index.jsonl.gz"
    index.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return index
