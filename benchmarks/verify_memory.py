"""Peak memory of one CHGNet force call on supercells of diamond, the densest common case.

Each size runs in a fresh process (ru_maxrss is a process-lifetime peak). It prints the
supercell atoms, neighbours within 3 Å, peak GB with and without the stress pass, and the
per-atom cost that ``crystaldos.screening.verify`` budgets with; then the supercell that
``chgnet_phonon_dos`` now picks for diamond under its 4 GB default, and that run's peak.

    python benchmarks/verify_memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, resource, sys
from ase.build import bulk
from chgnet.model import CHGNet
from pymatgen.io.ase import AseAtomsAdaptor
n, task = int(sys.argv[1]), sys.argv[2]
atoms = bulk("C", "diamond", a=3.567) * (n, n, n)
atoms.rattle(0.01, seed=0)
CHGNet.load(verbose=False).predict_structure(AseAtomsAdaptor.get_structure(atoms), task=task)
print(json.dumps({"atoms": len(atoms), "task": task,
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}))
"""

DEFAULT_RUN = """
import json, resource
from ase.build import bulk
from crystaldos.screening.verify import chgnet_atom_budget, chgnet_phonon_dos, bond_neighbours
from crystaldos.spectra.grid import PHDOS_221
from crystaldos.structures.readers import from_ase
c = from_ase(bulk("C", "diamond", a=3.567), id="diamond")
dos = chgnet_phonon_dos(c, PHDOS_221)
print(json.dumps({"neighbours_3A": bond_neighbours(c), "atom_budget": chgnet_atom_budget(c, 4.0),
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                  "dos_peak_cm1": float(PHDOS_221.points[dos.argmax()])}))
"""


def run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    rows = [run(PROBE, str(n), task) for n in (3, 4) for task in ("ef", "efs")]
    for row in rows:
        print(f"{row['atoms']:4d} atoms  task {row['task']:3s}  peak {row['peak_gb']:.2f} GB")
    default = run(DEFAULT_RUN)
    print(f"chgnet_phonon_dos(diamond) with the 4 GB default: budget {default['atom_budget']} "
          f"atoms ({default['neighbours_3A']:.0f} neighbours within 3 Å), peak "
          f"{default['peak_gb']:.2f} GB, DOS peak at {default['dos_peak_cm1']:.0f} cm^-1")


if __name__ == "__main__":
    main()
