"""Time of the moments embedding L_n^(N) on a 160-atom BaTiO3 supercell (4 x 4 x 2 cubic cells).

Prints the median of ``--repeats`` calls per (n, N) after one warm-up call. The CHGNet comparison
is in benchmarks/tinynet_md_speed.py (a whole MD step, same cell).

    OMP_NUM_THREADS=1 python benchmarks/moments_embedding_speed.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from ase.spacegroup import crystal

from crystaldos.embeddings import MomentsEmbedding
from crystaldos.structures.readers import from_ase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cubic = crystal(["Ba", "Ti", "O"], basis=[(0, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0)],
                    spacegroup=221, cellpar=[4.0, 4.0, 4.0, 90, 90, 90])
    cell = from_ase(cubic.repeat((4, 4, 2)))
    results = {}
    for n, neighbors in ((4, 2), (6, 4), (8, 4)):
        embed = MomentsEmbedding((8, 22, 56), n, neighbors)
        embed(cell)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            embed(cell)
            times.append(time.perf_counter() - start)
        results[f"L{n}^({neighbors})"] = 1e3 * statistics.median(times)
        print(f"L{n}^({neighbors})  {cell.n_atoms} atoms  {results[f'L{n}^({neighbors})']:.1f} ms")
    print(json.dumps({"atoms": cell.n_atoms, "ms_per_call": results}))


if __name__ == "__main__":
    main()
