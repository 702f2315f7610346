"""Seconds to read one large CIF (3,136-atom rocksalt supercell, P1): crystaldos's reader
(pymatgen's parser, oriented as ASE orients cells) against ``ase.io.read`` on the same file.

    python benchmarks/cif_read_speed.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def main() -> None:
    import ase.io
    from ase.build import bulk

    from crystaldos.structures.readers import read_structure

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.cif"
        ase.io.write(path, bulk("NaCl", "rocksalt", a=5.64, cubic=True) * (14, 14, 2))
        start = time.perf_counter()
        crystal = read_structure(path)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        atoms = ase.io.read(path)
        theirs = time.perf_counter() - start
    assert len(atoms) == crystal.n_atoms
    print(f"{crystal.n_atoms}-atom CIF: crystaldos {ours:.2f} s, ase.io.read {theirs:.2f} s "
          f"({theirs / ours:.0f}x)")


if __name__ == "__main__":
    main()
