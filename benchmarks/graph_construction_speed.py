"""Time crystal graph + line graph construction on the real structures of shared/datasets.

Runs, on the same structures and in one process:
  * crystaldos: ``graph_arrays`` (vesin neighbours, k-nearest shells, symmetric, line graph with
    angle cosines, CGCNN features);
  * alignn 2026.8.11, ``nearest_neighbor_edges`` + ``build_undirected_edgedata`` (the k-nearest
    builder of ``Graph.atom_dgl_multigraph`` used by the ALIGNN DOS models; its line-graph step
    needs DGL, which cannot be installed with torch 2.13, so this is a lower bound on its time);
  * alignn's DGL-free ``build_pure_torch_graph`` (graph + line graph).
Settings: k = 12, cutoff 8 Å for every builder.

It also checks every crystaldos neighbour set against a vectorized brute-force enumeration of
periodic images, and compares it with alignn's k-nearest edge set.

Usage (from the repository root; needs ``pip install -c constraints.txt -e . -r
benchmarks/requirements.txt``):

    python benchmarks/graph_construction_speed.py [--limit N] [--json OUT]

Prints a table and, as its last line, a JSON object with the figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from crystaldos.datasets import load_jarvis_phonon_benchmark, load_mp_phonon
from crystaldos.graphs import GraphSettings, graph_arrays
from crystaldos.graphs.neighbors import SHELL_TOLERANCE_A

K, CUTOFF = 12, 8.0


def brute_force_knn(crystal, k: int, cutoff: float, tol: float) -> set:
    """Directed (i, j, shift) edges of the symmetric k-nearest-shell graph, by enumerating all
    periodic images inside the cutoff sphere (numpy, no neighbour-list library)."""
    lat, pos = crystal.lattice, crystal.positions
    normals = np.cross(lat[[1, 2, 0]], lat[[2, 0, 1]])
    heights = crystal.volume / np.linalg.norm(normals, axis=1)
    reps = np.ceil(cutoff / heights).astype(int) + 1
    shifts = np.array(list(itertools.product(*[range(-r, r + 1) for r in reps])))
    offsets = shifts @ lat  # (S, 3)
    vec = pos[None, :, None, :] + offsets[None, None] - pos[:, None, None, :]  # (i, j, S, 3)
    dist = np.linalg.norm(vec, axis=-1)
    ok = (dist > 1e-8) & (dist <= cutoff)
    kth = np.empty(len(pos))
    for i in range(len(pos)):
        d = np.sort(dist[i][ok[i]])
        kth[i] = d[min(k, d.size) - 1] + tol
    limit = np.maximum(kth[:, None, None], kth[None, :, None])
    i, j, s = np.nonzero(ok & (dist <= limit))
    return {(a, b, tuple(shifts[c])) for a, b, c in zip(i.tolist(), j.tolist(), s.tolist(),
                                                        strict=True)}


def crystaldos_edges(arrays) -> set:
    src, dst = arrays["edge_index"]
    shifts = arrays["edge_shift"].astype(int)
    return {(int(i), int(j), tuple(s)) for i, j, s in zip(dst, src, shifts.tolist(),
                                                          strict=True)}


def load_structures(root: Path, limit: int | None):
    jarvis = load_jarvis_phonon_benchmark(root, structures="dft3d", validate=False)
    mp = load_mp_phonon(root, validate=False)
    crystals = [r.crystal for r in jarvis if r.crystal is not None]
    crystals += [r.crystal for r in mp]
    return crystals[:limit] if limit else crystals


def time_each(fn, crystals) -> tuple[np.ndarray, list]:
    times, outputs = [], []
    for c in crystals:
        t = time.perf_counter()
        outputs.append(fn(c))
        times.append(time.perf_counter() - t)
    return np.array(times), outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--limit", type=int, default=None, help="first N structures only")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    crystals = load_structures(args.data, args.limit)
    n = len(crystals)
    print(f"{n} structures ({sum(c.n_atoms for c in crystals)} atoms), k={K}, cutoff={CUTOFF} Å")

    settings = GraphSettings(neighbors=K, cutoff=CUTOFF, atom_features="cgcnn", line_graph=True)
    graph_arrays(crystals[0], settings)  # warm up imports and tables
    ours_t, ours = time_each(lambda c: graph_arrays(c, settings), crystals)

    verified = sum(crystaldos_edges(a) == brute_force_knn(c, K, CUTOFF, SHELL_TOLERANCE_A)
                   for c, a in zip(crystals, ours, strict=True))

    from alignn.graphs import build_undirected_edgedata, nearest_neighbor_edges
    from alignn.torch_graph_builder import build_pure_torch_graph
    from jarvis.core.atoms import Atoms

    def to_jarvis(c):
        return Atoms(lattice_mat=c.lattice, coords=c.positions, elements=c.species,
                     cartesian=True)

    jatoms = [to_jarvis(c) for c in crystals]

    def alignn_knn(a):
        edges, _ = nearest_neighbor_edges(atoms=a, cutoff=CUTOFF, max_neighbors=K,
                                          use_canonize=True)
        return build_undirected_edgedata(a, edges)

    knn_t, knn_out = time_each(alignn_knn, jatoms)
    pure_t, _ = time_each(lambda a: build_pure_torch_graph(atoms=a, two_body_cutoff=CUTOFF,
                                                           max_neighbors=K), jatoms)

    same_as_alignn = 0
    for a, (u, v, _, _images) in zip(ours, knn_out, strict=True):
        theirs = {(int(i), int(j)) for i, j in zip(u.tolist(), v.tolist(), strict=True)}
        ours_pairs = {(i, j) for i, j, _ in crystaldos_edges(a)}
        same_as_alignn += theirs == ours_pairs

    def row(name, t):
        return (f"{name:44s} {t.sum():8.2f} s  {1e3 * t.mean():8.3f} ms/structure  "
                f"{n / t.sum():9.1f} structures/s")

    print(row("crystaldos graph + line graph", ours_t))
    print(row("alignn k-nearest edges (no line graph)", knn_t))
    print(row("alignn build_pure_torch_graph (+ line graph)", pure_t))
    print(f"speed-up vs alignn k-nearest: {knn_t.sum() / ours_t.sum():.1f}x; "
          f"vs alignn pure-torch: {pure_t.sum() / ours_t.sum():.1f}x")
    print(f"crystaldos neighbour sets equal to brute force: {verified}/{n}; "
          f"same (center, neighbour) pairs as alignn k-nearest: {same_as_alignn}/{n}")
    figures = {
        "structures": n, "k": K, "cutoff_A": CUTOFF,
        "crystaldos_ms_per_structure": 1e3 * ours_t.mean(),
        "alignn_knn_ms_per_structure": 1e3 * knn_t.mean(),
        "alignn_pure_torch_ms_per_structure": 1e3 * pure_t.mean(),
        "speedup_vs_alignn_knn": knn_t.sum() / ours_t.sum(),
        "speedup_vs_alignn_pure_torch": pure_t.sum() / ours_t.sum(),
        "brute_force_match": verified, "alignn_pair_match": same_as_alignn,
        "median_bonds": float(np.median([a["edge_index"].shape[1] for a in ours])),
        "median_triplets": float(np.median([a["lg_edge_index"].shape[1] for a in ours])),
        "python": sys.version.split()[0], "machine": platform.machine(),
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
