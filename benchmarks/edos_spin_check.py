"""Does spin polarization open a gap in the open-shell cells the DFT campaign found metallic?

    OMP_NUM_THREADS=1 python benchmarks/edos_spin_check.py --data runs/dft_edos_778.jsonl \\
        O2 KO2 LiO2 VO2 VO AgO TiVO4 KCaO3 CuHgO2

The campaign polarizes spin only in cells holding Cr, Mn, Fe, Co or Ni
(``crystaldos.reference.dft_edos.MAGNETIC_ELEMENTS``). A cell with an odd number of electrons
computed without spin cannot be gapped, so superoxides, molecular O2 or V4+ and Cu2+ compounds
come out metals there, while JARVIS, which polarizes every calculation, may find them gapped.
For each formula given (its first record in ``--data`` that is a metal), this runs the
campaign's settings once more spin-polarized, with a ferromagnetic start of 1 Bohr magneton on
every atom, and prints one JSON line: the unpolarized gap, the polarized call, gap and moment,
and the seconds. Results of the runs of 2026-12-06 are in ``results_edos_spin/spin_check.jsonl``
(the first six lines from the formulas above with ``--data runs/dft_edos_778.jsonl``, then
``--data runs/dft_edos_938.jsonl CuO LiCuO2 HgCuO2``).

``--campaign-moment M`` instead repeats the campaign's own calculation (its settings: dzp,
2.0/Å k-points, 1e-3 density criterion, the 4.0/Å eigenvalue pass; spin on the campaign's
magnetic elements only) with a ferromagnetic start of M Bohr magnetons per magnetic atom in
place of the campaign's 3: does a larger start find a high-spin, gapped solution the campaign
missed? (``results_edos_spin/campaign_moment_4.jsonl``:
``--data runs/dft_edos_938.jsonl --campaign-moment 4 RbFeO2 Mn5O3F5``.)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    from pymatgen.core import Composition

    import crystaldos.reference.dft_edos as engine
    from crystaldos.datasets.jsonl import load_jsonl

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="an assembled DFT eDOS set")
    parser.add_argument("formulas", nargs="+", help="reduced formulas, e.g. KO2")
    parser.add_argument("--campaign-moment", type=float, default=None,
                        help="repeat the campaign's calculation with this initial moment per "
                        "magnetic atom (Bohr magnetons)")
    args = parser.parse_args()
    wanted = list(args.formulas)
    for record in load_jsonl(args.data).records:
        formula = Composition("".join(record.crystal.species)).reduced_formula
        if formula not in wanted or not record.meta["is_metal"]:
            continue
        wanted.remove(formula)
        if args.campaign_moment is None:  # every species starts magnetic, at 1 Bohr magneton
            settings = engine.DFTSettings(
                spin="on", initial_moment=1.0,
                magnetic_elements=tuple(sorted(set(record.crystal.species))))
        else:  # the campaign's settings (make_dft_edos.py defaults), another start
            settings = engine.DFTSettings(kpoint_density=2.0, density_convergence=1e-3,
                                          nscf_kpoint_density=4.0,
                                          initial_moment=args.campaign_moment)
        start = time.time()
        try:
            result = engine.gpaw_edos(record.crystal, settings)
            out = {"spin_metal": result.is_metal, "spin_gap": round(result.gap, 3),
                   "moment": round(result.magnetic_moment, 2)}
        except engine.DFTError as err:
            out = {"error": str(err)[:200]}
        print(json.dumps({"id": record.id, "formula": formula,
                          **({"initial_moment": args.campaign_moment}
                             if args.campaign_moment is not None else {}),
                          "atoms": len(record.crystal.species),
                          "unpolarized_gap": record.meta["band_gap"], **out,
                          "seconds": round(time.time() - start)}), flush=True)


if __name__ == "__main__":
    main()
