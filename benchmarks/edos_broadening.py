"""How much of the DFT eDOS set's fine structure is k-point sampling noise, per Gaussian width.

The campaign (``scripts/make_dft_edos.py``) takes its eigenvalues from a non-self-consistent
pass on a mesh of 4 k-points per reciprocal Å and broadens every level by a Gaussian of
``sigma`` = 0.1 eV. A coarse mesh turns a smooth band into a comb of peaks one mesh step apart;
no model can learn those, and a reference that holds them is not the converged DOS. This script
runs the campaign's settings on a few known crystals twice, once with the campaign's eigenvalue
mesh and once with a dense one (12 per Å^-1), and for each width reports

* ``noise``: the MAE between the campaign-mesh and dense-mesh DOS at that width, both scaled to
  unit mean over the edos300 grid (the shape units of ``benchmarks/edos_dft.py``): what the
  mesh gets wrong;
* ``detail``: the same MAE between the dense DOS at that width and at 0.05 eV: the structure the
  width itself removes;
* ``total``: the MAE between the campaign-mesh DOS at that width and the dense DOS at 0.05 eV:
  how far the set's spectrum is from the converged, finely resolved one (the width that
  minimizes it is the one to train on);
* ``roughness``: the mean total variation per material of the unit-mean spectra (the campaign
  mesh), a number a set's spectra can be compared by.

Measured (``metrics.json``, the mean over the six crystals): ``total`` falls from 0.250 at
0.1 eV to 0.178 at 0.2 eV and stays within 2 % of its minimum (0.175 at 0.25 eV) up to 0.3 eV;
``noise`` and ``detail`` cross near 0.2 eV. The training sets are assembled at 0.2 eV, the
narrowest width within 2 % of the best (``make_dft_edos.py --assemble --sigma 0.2``).

    OMP_NUM_THREADS=1 python benchmarks/edos_broadening.py \\
        [--out benchmarks/results_edos_broadening]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results_edos_broadening"
#: name: ase.build.bulk arguments (experimental lattice constants, as in dft_reference_check)
CRYSTALS = {
    "Cu": {"name": "Cu", "crystalstructure": "fcc", "a": 3.615},
    "Al": {"name": "Al", "crystalstructure": "fcc", "a": 4.05},
    "Si": {"name": "Si", "crystalstructure": "diamond", "a": 5.431},
    "GaAs": {"name": "GaAs", "crystalstructure": "zincblende", "a": 5.653},
    "NaCl": {"name": "NaCl", "crystalstructure": "rocksalt", "a": 5.640},
    "TiN": {"name": "TiN", "crystalstructure": "rocksalt", "a": 4.24},
}
WIDTHS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
DENSE = 12.0


def main() -> None:
    from ase.build import bulk

    from crystaldos.evaluation.metrics import unit_mean as shape_scaled
    from crystaldos.reference.dft_edos import DFTSettings, eigenvalue_dos, gpaw_edos
    from crystaldos.spectra.grid import EDOS_300
    from crystaldos.structures.readers import from_ase

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    # the campaign's settings (make_dft_edos.py defaults)
    campaign = DFTSettings(basis="dzp", kpoint_density=2.0, grid_spacing=0.2,
                           density_convergence=1e-3, nscf_kpoint_density=4.0)
    dense = DFTSettings(**{**campaign.to_dict(), "nscf_kpoint_density": DENSE})
    points = EDOS_300.points
    rows = {}
    for name, spec in CRYSTALS.items():
        if args.only and name not in args.only:
            continue
        crystal = from_ase(bulk(**spec), id=name)
        start = time.perf_counter()
        coarse, fine = gpaw_edos(crystal, campaign), gpaw_edos(crystal, dense)
        row = {"kpts": [list(coarse.kpts), list(fine.kpts)],
               "seconds": round(time.perf_counter() - start, 1)}
        def broadened(result, width: float) -> np.ndarray:
            return eigenvalue_dos(result.eigenvalues, result.k_weights, points, width)

        def unit_mean(y: np.ndarray) -> np.ndarray:  # one spectrum (G,) at unit mean
            return shape_scaled(y[None])[0]

        reference = unit_mean(broadened(fine, 0.05))
        for width in WIDTHS:
            a = unit_mean(broadened(coarse, width))
            b = unit_mean(broadened(fine, width))
            row[f"{width:g}"] = {"noise": round(float(np.abs(a - b).mean()), 4),
                                 "detail": round(float(np.abs(b - reference).mean()), 4),
                                 "total": round(float(np.abs(a - reference).mean()), 4),
                                 "roughness": round(float(np.abs(np.diff(a)).sum()), 2)}
        rows[name] = row
        print(name, json.dumps(row), flush=True)
    summary = {f"{w:g}": {k: round(float(np.mean([r[f'{w:g}'][k] for r in rows.values()])), 4)
                          for k in ("noise", "detail", "total", "roughness")} for w in WIDTHS}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(
        {"campaign_nscf_density": campaign.nscf_kpoint_density, "dense_nscf_density": DENSE,
         "crystals": rows, "mean": summary}, indent=1) + "\n")
    print(f"{'width eV':>9s} {'noise':>7s} {'detail':>7s} {'total':>7s} {'roughness':>9s}")
    for w, s in summary.items():
        print(f"{w:>9s} {s['noise']:7.3f} {s['detail']:7.3f} {s['total']:7.3f} "
              f"{s['roughness']:9.1f}")


if __name__ == "__main__":
    main()
