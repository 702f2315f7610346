"""Cost of one GPAW eDOS calculation of a campaign cell, with and without idealizing the cell.

Reads the cell of ``--id`` from the campaign records (``data/dft_edos``) and runs the engine once
per ``--symprec`` value (``none`` keeps the cell as stored), printing the k-mesh, the irreducible
k-points, the gap and the seconds. Reproduces the README's figures:

    OMP_NUM_THREADS=1 python benchmarks/dft_cell_speed.py --id JVASP-14741 --symprec none 1e-3
    OMP_NUM_THREADS=1 python -m cProfile -s tottime benchmarks/dft_cell_speed.py \\
        --id mp_phdos_108 --basis "szp(dzp)" --kpoint-density 2.0 --max-iterations 2
    OMP_NUM_THREADS=1 python benchmarks/dft_cell_speed.py --id JVASP-11970 \\
        --kpoint-density 2.0 --density-convergence 1e-3 --nscf-kpoint-density none 4.0

(the first: a relaxed JARVIS TiN, whose stored cell leaves GPAW 4 of 48 symmetries; the
third: B2 CoAl, gapped on the SCF mesh and a metal on the non-self-consistent 4.0/Å one; the
second: where an SCF step's time goes, ``LocalizedFunctionsCollection.construct_density`` per
k-point).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", required=True, help="a record id of the campaign")
    parser.add_argument("--records", type=Path, default=Path("data/dft_edos"))
    parser.add_argument("--symprec", nargs="+", default=["1e-3"], help="'none' or Å")
    parser.add_argument("--basis", default="dzp")
    parser.add_argument("--kpoint-density", type=float, default=2.5)
    parser.add_argument("--max-iterations", type=int, default=150)
    parser.add_argument("--density-convergence", type=float, default=None)
    parser.add_argument("--nscf-kpoint-density", nargs="+", default=["none"],
                        help="'none' (the SCF mesh) or k-points per Å^-1 of a "
                        "non-self-consistent pass; one run per value")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from crystaldos.reference.dft_edos import DFTError, DFTSettings, gpaw_edos
    from crystaldos.reference.shards import RecordShards, latest_records
    from crystaldos.structures.readers import from_arrays

    found = [r for r in latest_records(RecordShards(args.records, prefix="dft_edos").records())
             if r["id"] == args.id]
    if not found:
        raise SystemExit(f"error: {args.records}: no record {args.id!r}")
    rec = found[0]
    crystal = from_arrays(rec["lattice"], rec["species"], frac_coords=rec["frac_coords"],
                          id=args.id)
    for value in args.symprec:
        symprec = None if value == "none" else float(value)
        for nscf in args.nscf_kpoint_density:
            settings = DFTSettings(basis=args.basis, kpoint_density=args.kpoint_density,
                                   max_iterations=args.max_iterations, symprec=symprec,
                                   density_convergence=args.density_convergence,
                                   nscf_kpoint_density=None if nscf == "none" else float(nscf))
            label = f"symprec {value}, nscf {nscf}"
            try:
                res = gpaw_edos(crystal, settings)
            except DFTError as err:  # --max-iterations 2 for profiling stops before convergence
                print(f"{args.id} {label}: {err.problem}")
                continue
            print(f"{args.id} {rec['formula']} {label}: k-mesh {res.kpts}, "
                  f"{len(res.k_weights)} irreducible k-points, gap {res.gap:.3f} eV, "
                  f"{res.seconds:.1f} s")


if __name__ == "__main__":
    main()
