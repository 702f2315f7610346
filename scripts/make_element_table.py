"""Regenerate ``src/crystaldos/data/elements.json`` from pymatgen's and ASE's element data.

The table is committed so that atom features (and therefore graph caches and trained models) do not
change when pymatgen updates its data. Run: ``python scripts/make_element_table.py``.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

from ase.data import atomic_masses, covalent_radii
from pymatgen.core.periodic_table import Element

MAX_Z = 103
OUT = Path(__file__).resolve().parents[1] / "src" / "crystaldos" / "data" / "elements.json"


def _number(value: object) -> float | None:
    """A plain float, or None for missing / NaN values (pymatgen mixes floats, units and None)."""
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else round(x, 6)


def valence_electrons(z: int, group: int, block: str) -> int:
    """Electrons outside the closed noble-gas (and filled d/f) shells, in the 1..12 range.

    s- and d-block: the group number; p-block: group - 10; He: 2; lanthanides and actinides: 3
    (the trivalent convention, f electrons counted as core).
    """
    if z == 2:
        return 2
    if block == "f" or (57 <= z <= 71) or (89 <= z <= 103):
        return 3
    return group - 10 if group >= 13 else group


def main() -> None:
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for z in range(1, MAX_Z + 1):
            el = Element.from_Z(z)
            group, period, block = int(el.group), int(el.row), str(el.block)
            lanthanide_or_actinide = 57 <= z <= 71 or 89 <= z <= 103
            ionization = el.ionization_energies[0] if el.ionization_energies else None
            rows.append({
                "z": z,
                "symbol": el.symbol,
                "mass_amu": _number(atomic_masses[z]),
                "group": group,
                "period": period,
                "block": block,
                "f_series": lanthanide_or_actinide,
                "electronegativity": _number(el.X),
                "electron_affinity_eV": _number(el.electron_affinity),
                "first_ionization_eV": _number(ionization),
                "atomic_radius_A": _number(el.atomic_radius),
                "covalent_radius_A": _number(covalent_radii[z]),
                "molar_volume_cm3": _number(el.molar_volume),
                "valence_electrons": valence_electrons(z, group, block),
            })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    meta = {"source": "pymatgen periodic_table + ase.data (Cordero covalent radii)", "max_z": MAX_Z}
    OUT.write_text(json.dumps({"meta": meta, "elements": rows}, indent=1) + "\n")
    print(f"wrote {len(rows)} elements to {OUT}")


if __name__ == "__main__":
    main()
