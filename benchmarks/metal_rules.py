"""Composition-only metallicity rules on DFT labels: the plain rule and the charge rule.

The plain rule says "every element is a metal => metal"; the charge rule adds "no assignment of
oxidation states balances the formula => metal", with each of pymatgen's oxidation-state tables
(:data:`crystaldos.evaluation.baselines.OXIDATION_TABLES`). The table is chosen on the DFT eDOS
set's training and validation materials; the test split and the 50 JARVIS DFT spectra are
printed beside it and were not used to choose:

    python scripts/make_dft_edos.py --out data/dft_edos --assemble runs/dft_edos.jsonl
    python benchmarks/metal_rules.py --data runs/dft_edos.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from crystaldos.datasets.jsonl import load_jsonl
from crystaldos.datasets.shared import load_jarvis_edos_sample50
from crystaldos.errors import DatasetError
from crystaldos.evaluation.baselines import (
    OXIDATION_TABLES,
    charge_rule_says_metal,
    composition_says_metal,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from edos_dft import dos_gaps


def accuracies(species: list, metal: np.ndarray) -> dict[str, float]:
    """Agreement of each rule with the labels ``metal`` (n,) on the materials' ``species``."""
    out = {"plain rule": float(np.mean([composition_says_metal(s) for s in species] == metal))}
    for table in OXIDATION_TABLES:
        said = np.array([charge_rule_says_metal(s, table) for s in species])
        out[f"charge rule, {table} states"] = float(np.mean(said == metal))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="an assembled DFT eDOS set")
    args = parser.parse_args()
    try:
        data = load_jsonl(args.data)
    except DatasetError as err:
        raise SystemExit(f"error: {err}") from None
    blocks = {}
    for name, splits in (("DFT train+val", ("train", "val")), ("DFT test", ("test",))):
        records = [r for r in data.records if r.split in splits]
        blocks[f"{name}, n={len(records)}"] = accuracies(
            [r.crystal.species for r in records],
            np.array([bool(r.meta["is_metal"]) for r in records]))
    jarvis = load_jarvis_edos_sample50()
    metal = dos_gaps(data.grid, jarvis.spectra()) == 0
    blocks[f"JARVIS-50, n={len(metal)}"] = accuracies(
        [r.crystal.species for r in jarvis.records], metal)
    rules = list(next(iter(blocks.values())))
    print(f"{'metal/gapped accuracy':30s}" + "".join(f"{b:>24s}" for b in blocks))
    for rule in rules:
        print(f"{rule:30s}" + "".join(f"{blocks[b][rule]:24.3f}" for b in blocks))


if __name__ == "__main__":
    main()
