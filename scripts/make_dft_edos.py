"""The DFT eDOS campaign: GPAW PBE spectra of the shared structures, cheap cells most often.

Structures come from every shared set: JARVIS dft_3d phonon-benchmark structures, the 572
JARVIS structures of the superconductor workflow (``jarvis_alt``, ids without a dft_3d structure;
another relaxation, but each spectrum is computed on exactly the cell it stores), the Materials
Project phonon set and the phonondb primitive cells built by ``scripts/make_phonondb.py`` (train
and val only). The superconductor set is the pool's intermetallics: the other sets hold only 44
crystals of metallic elements alone (the phonon databases chose semiconductors: 35 of the first
44 came out gapped half-Heuslers and Zintl phases), it adds 327 (535
kept of its 572). Held out, never computed: every formula of the phonondb test split (which covers
the test formulas of the other two sets) and every formula of the 50 JARVIS DFT spectra used to
check the models; also crystals holding a noble gas or an f-block element (see NOBLE_GASES,
F_BLOCK). Duplicates across sets
(same reduced formula, atom count and volume within 2 %) are computed once. Within one cell
size the order is fixed and pseudo-random (a hash of the id), so every size samples all the
sets' chemistries; across sizes it is a round robin weighted by size (see
:func:`campaign_order`). For its first 342 records it was smallest cell first, which left the set
with 16 cells above 4 atoms while the JARVIS check spectra have 5-64 and the models trained on
it read every larger cell as something small. (The first 120 spectra alternated
between crystals the composition rule calls metals and the rest, in id order within a size;
the rule agreed with DFT on 14 % of them (``--summary --limit 120``), the 2-atom JARVIS cells
in id order were mostly metallic nitrides and oxides, and the small all-metal cells were gapped
half-Heuslers and Zintl phases, so that order taught a model the opposite of the rule.) Each
result is one
record in resumable compressed parts under ``--out`` (see :mod:`crystaldos.reference.shards`):

    OMP_NUM_THREADS=1 python scripts/make_dft_edos.py --out data/dft_edos --workers 2 \
        [--prefer disagreement]
    OMP_NUM_THREADS=1 python scripts/make_dft_edos.py --out data/dft_edos --workers 2 \
        --recompute-hubbard
    python scripts/make_dft_edos.py --out data/dft_edos --summary
    python scripts/make_dft_edos.py --out data/dft_edos --assemble runs/dft_edos.jsonl \
        [--limit 268] [--sigma 0.2]

From 2026-12-06 the oxides and fluorides of Co, Cr, Fe, Mn, Ni and V get the Materials
Project's Hubbard U (``--hubbard-u mp-3d``, the default; its Mo and W values are left out; see
:func:`crystaldos.reference.dft_edos.hubbard_setups`): plain PBE made every 3d monoxide of
``benchmarks/dft_reference_check.py --set tm-oxides`` a metal, PBE+U makes NiO and MnO gapped
(FeO and CoO stay metals in a ferromagnetic rocksalt cell). ``--recompute-hubbard`` computes the
earlier records of such crystals again, cheapest first; the new record supersedes the old one.

A record holds the structure, the settings, E_F-relative band edges, gap, metallicity, magnetic
moment, PAW valence electrons, the DOS on edos300 (states/eV per cell, both spins, 0.1 eV
Gaussian, E = 0 at E_F) and the eigenvalues within -6..+11 eV with their k-point weights.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
EIGEN_WINDOW = (-6.0, 11.0)
#: Left out: the dzp basis of a noble gas has no orbital for its conduction band, so LCAO gaps
#: come out far too wide (measured: Ne 27.5 eV and Ar 21.4 eV against about 11.5 and 8.7 eV in
#: plane-wave PBE).
NOBLE_GASES = frozenset({"He", "Ne", "Ar", "Kr", "Xe", "Rn"})
#: Left out from the second session on: lanthanides and actinides. Plain PBE (no U) puts their
#: partly filled 4f/5f shells at E_F, so YbO, LuN and TmN came out metallic, and they cost most:
#: TmN took 5,029 s against a median of 177 s (``--summary`` of the first 12 spectra). gpaw-data
#: also has no dzp basis for Th. The records already computed stay in the set.
F_BLOCK = frozenset(["La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm",
                     "Yb", "Lu", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es",
                     "Fm", "Md", "No", "Lr"])


#: Cost per atom of a spin-polarized cell (one holding Cr, Mn, Fe, Co or Ni) relative to the
#: others: medians 31.4 and 13.2 s per atom over the 366 records at the current settings when
#: the campaign stopped on 2026-12-06 (``--summary``, ``seconds_per_atom_median``).
MAGNETIC_COST = 2.4


def _phonondb_crystals(folder: Path) -> list[tuple[str, str, object]]:
    from crystaldos.reference.shards import RecordShards
    from crystaldos.structures.readers import from_arrays

    if not folder.is_dir():
        return []
    return [(r["id"], "phonondb", from_arrays(r["lattice"], r["species"],
                                              frac_coords=r["frac_coords"], id=r["id"],
                                              source=f"phonondb:{r['id']}"))
            for r in RecordShards(folder, prefix="phonondb").records()]


def reduced(formula: str) -> str:
    """One spelling of a reduced formula (pymatgen's), whatever the source wrote."""
    from pymatgen.core import Composition

    return Composition(formula).reduced_formula


def held_out_formulas(shared: Path) -> set[str]:
    """Reduced formulas never computed: phonondb test and the 50 JARVIS eDOS check spectra."""
    from crystaldos.datasets.shared import load_jarvis_edos_sample50

    with gzip.open(shared / "phonondb_pbesol" / "index.jsonl.gz", "rt") as handle:
        held = {reduced(e["formula"]) for e in map(json.loads, handle) if e["split"] == "test"}
    held |= {reduced(r.crystal.formula) for r in load_jarvis_edos_sample50(shared).records
             if r.crystal is not None}
    return held


def campaign_order(args: argparse.Namespace) -> list[tuple[str, str, object]]:
    """(id, set, Crystal) of every structure to compute, in campaign order."""
    from crystaldos.datasets.shared import load_jarvis_phonon_benchmark, load_mp_phonon

    items = [(r.id, "jarvis_dft3d", r.crystal)
             for r in load_jarvis_phonon_benchmark(args.shared, structures="dft3d").records
             if r.crystal is not None]
    in_dft3d = {ident for ident, _, _ in items}  # no id has both today; dft_3d would win
    items += [(r.id, "jarvis_alt", r.crystal)
              for r in load_jarvis_phonon_benchmark(args.shared, structures="alt").records
              if r.crystal is not None and r.id not in in_dft3d]
    items += [(r.id, "mp_phonon", r.crystal) for r in load_mp_phonon(args.shared).records]
    items += _phonondb_crystals(args.phonondb)
    held = held_out_formulas(args.shared)
    seen: dict[tuple[str, int], list[float]] = {}
    kept = []
    for ident, set_name, crystal in sorted(items, key=lambda it: (it[2].n_atoms, it[0])):
        formula = reduced(crystal.formula)
        if formula in held or crystal.n_atoms > args.max_atoms or \
                (NOBLE_GASES | F_BLOCK) & set(crystal.species):
            continue
        key = (formula, crystal.n_atoms)
        volumes = seen.setdefault(key, [])
        if any(abs(crystal.volume - v) < 0.02 * v for v in volumes):
            continue
        volumes.append(crystal.volume)
        kept.append((ident, set_name, crystal))
    import hashlib

    def shuffled(item: tuple[str, str, object]) -> tuple[int, str]:
        return item[2].n_atoms, hashlib.sha256(f"order:{item[0]}".encode()).hexdigest()

    # Round robin over cell sizes, weighted by size: the k-th cell (from 1) of size n comes at
    # k * n, so an 8-atom cell follows every fourth 2-atom one and the set holds large cells
    # early, not only after every small one is done.
    rank: dict[int, int] = {}
    keyed = []
    for item in sorted(kept, key=shuffled):
        n = item[2].n_atoms
        rank[n] = rank.get(n, 0) + 1
        keyed.append((rank[n] * n, n, item))
    return [item for _, _, item in sorted(keyed, key=lambda k: (k[0], k[1]))]


def metal_calls(crystals: list) -> tuple[np.ndarray, np.ndarray]:
    """(bundled ``gap-trees`` calls metal (n,), charge rule calls metal (n,)) of ``crystals``:
    the two predictors the campaign queries by their disagreement."""
    from crystaldos.evaluation.baselines import charge_rule_says_metal
    from crystaldos.prediction.band_gap import GapTrees

    trees = GapTrees.load("gap-trees")
    probability, _ = trees.predict(crystals)
    return (probability >= trees.threshold,
            np.array([charge_rule_says_metal(c.species) for c in crystals], dtype=bool))


def disagreements_first(items: list[tuple[str, str, object]], settings=None
                        ) -> list[tuple[str, str, object]]:
    """``items`` with the crystals where the bundled ``gap-trees`` (descriptors alone: no
    potential call per pool crystal) and the charge rule call
    metallicity differently moved to the front, cheapest first (atoms, times
    :data:`MAGNETIC_COST` for a cell that ``settings`` spin-polarize: most answers per
    core-hour; the trees' descriptors do not depend on the cell), then the rest in campaign
    order.

    Query by disagreement: the two predictors agree on most of the pool, so a spectrum where
    they differ settles a question one of them gets wrong (the trees learnt from a set whose
    charge-rule failures are mostly half-Heuslers, Zintl phases and rocksalt nitrides, and on
    larger cells they call too few metals)."""
    from crystaldos.reference.dft_edos import DFTSettings, cell_treatment

    settings = settings or DFTSettings()

    if not items:
        return items
    trees, rule = metal_calls([crystal for _, _, crystal in items])
    differ = (trees != rule).tolist()

    def cost(item: tuple[str, str, object]) -> float:
        polarized = cell_treatment(item[2].species, settings)["spin"]
        return item[2].n_atoms * (MAGNETIC_COST if polarized else 1.0)

    first = sorted((it for it, d in zip(items, differ, strict=True) if d),
                   key=cost)  # stable: campaign order within one cost
    return first + [it for it, d in zip(items, differ, strict=True) if not d]


def _finite(value: float) -> float | None:
    return round(float(value), 4) if np.isfinite(value) else None


def _compute(item: tuple[str, str, object], settings_dict: dict) -> dict:
    from crystaldos.reference.dft_edos import DFTError, DFTSettings, gpaw_edos

    ident, set_name, crystal = item
    start = time.perf_counter()
    try:
        res = gpaw_edos(crystal, DFTSettings(**settings_dict))
    except DFTError as err:
        return {"id": ident, "set": set_name, "formula": crystal.formula, "reason": err.problem,
                "seconds": round(time.perf_counter() - start, 2)}
    eps = res.eigenvalues
    inside = (eps >= EIGEN_WINDOW[0]) & (eps <= EIGEN_WINDOW[1])
    bands = np.flatnonzero(inside.any(axis=(0, 1)))
    window = eps[:, :, bands[0]:bands[-1] + 1] if bands.size else eps[:, :, :0]
    computed = res.crystal  # the idealized primitive cell the DOS (per cell) refers to
    return {
        "id": ident, "set": set_name, "formula": computed.formula,
        "lattice": np.round(computed.lattice, 6).tolist(), "species": list(computed.species),
        "frac_coords": np.round(computed.frac_coords, 6).tolist(),
        "settings": res.settings.to_dict(), "kpts": list(res.kpts),
        "gap": round(res.gap, 4), "is_metal": res.is_metal, "vbm": _finite(res.vbm),
        "cbm": _finite(res.cbm), "n_valence": res.n_valence,
        "magnetic_moment": round(res.magnetic_moment, 4),
        "grid": res.grid.to_dict(), "dos": [float(f"{v:.5g}") for v in res.dos],
        "k_weights": np.round(res.k_weights, 6).tolist(),
        "first_band": int(bands[0]) if bands.size else 0,
        "eigenvalues": np.round(window, 3).tolist(),
        "seconds": round(res.seconds, 2)}


def build(args: argparse.Namespace) -> None:
    from functools import partial

    from crystaldos.reference.campaign import run_campaign
    from crystaldos.reference.dft_edos import DFTSettings, hubbard_table
    from crystaldos.reference.shards import RecordShards

    settings = DFTSettings(basis=args.basis, kpoint_density=args.kpoint_density,
                           grid_spacing=args.grid_spacing,
                           density_convergence=args.density_convergence,
                           nscf_kpoint_density=args.nscf_kpoint_density,
                           hubbard_u=hubbard_table(args.hubbard_u))
    store = RecordShards(args.out, prefix="dft_edos", part_size=args.part_size)
    if args.recompute_hubbard:
        todo = to_recompute_hubbard(store, settings)
        print(f"{len(todo)} records whose Hubbard U differs from --hubbard-u {args.hubbard_u} "
              "to recompute, cheapest first", flush=True)
    elif args.recompute_basis:
        todo = to_recompute(store, args.recompute_basis, set(args.recompute_elements), settings)
        print(f"{len(todo)} records of basis {args.recompute_basis} to recompute with "
              f"{settings.basis}", flush=True)
    else:
        done = store.done_ids()
        order = campaign_order(args)
        if args.prefer == "disagreement":
            order = disagreements_first(order, settings)
        todo = [it for it in order[:args.limit] if it[0] not in done]
        print(f"{len(done)} done, {len(todo)} to compute with {args.workers} workers",
              flush=True)
    run_campaign(todo, partial(_compute, settings_dict=settings.to_dict()), store,
                 workers=args.workers, report_every=10, log=lambda m: print(m, flush=True))


def to_recompute(store, basis: str, elements: set[str], settings) -> list[tuple[str, str, object]]:
    """(id, set, Crystal) of the latest records computed with ``basis`` that hold one of
    ``elements`` (all when empty) and are not yet at ``settings``; each cell is the one stored
    (already idealized)."""
    from crystaldos.reference.shards import latest_records
    from crystaldos.structures.readers import from_arrays

    out = []
    for r in latest_records(store.records()):
        if r["settings"]["basis"] != basis or r["settings"] == settings.to_dict():
            continue
        if elements and not elements & set(r["species"]):
            continue
        crystal = from_arrays(r["lattice"], r["species"], frac_coords=r["frac_coords"],
                              id=r["id"], source=f"{r['set']}:{r['id']}")
        out.append((r["id"], r["set"], crystal))
    return out


def outdated_treatment(record: dict, settings) -> bool:
    """Whether ``record`` was computed with another Hubbard U
    (:func:`crystaldos.reference.dft_edos.hubbard_setups`) or spin polarization
    (:func:`crystaldos.reference.dft_edos.cell_treatment`) than ``settings`` give its cell
    (whether a record was polarized is read from its eigenvalues' spin channels)."""
    from crystaldos.reference.dft_edos import DFTSettings, cell_treatment, hubbard_setups

    old = DFTSettings(**record["settings"])
    polarized = len(record["eigenvalues"]) == 2
    return hubbard_setups(record["species"], old) != hubbard_setups(record["species"],
                                                                      settings) or \
        polarized != cell_treatment(record["species"], settings)["spin"]


def to_recompute_hubbard(store, settings) -> list[tuple[str, str, object]]:
    """(id, set, Crystal) of the latest records of :func:`outdated_treatment` under
    ``settings`` (a U table added or changed: the oxides and fluorides of the table's
    elements), cheapest first by the seconds each took; each cell is the one stored."""
    from crystaldos.reference.shards import latest_records
    from crystaldos.structures.readers import from_arrays

    out = []
    for r in latest_records(store.records()):
        if not outdated_treatment(r, settings):
            continue
        crystal = from_arrays(r["lattice"], r["species"], frac_coords=r["frac_coords"],
                              id=r["id"], source=f"{r['set']}:{r['id']}")
        out.append((float(r.get("seconds", 0.0)), r["id"], r["set"], crystal))
    return [(ident, set_name, crystal) for _, ident, set_name, crystal
            in sorted(out, key=lambda item: (item[0], item[1]))]


def summary(args: argparse.Namespace) -> None:
    from crystaldos.evaluation.baselines import charge_rule_says_metal, composition_says_metal
    from crystaldos.reference.shards import RecordShards, latest_records
    from crystaldos.safe_io import atomic_write_text

    store = RecordShards(args.out, prefix="dft_edos", part_size=args.part_size)
    lines = list(store.records())[:args.limit]
    rows, failures = latest_records(lines), store.failures()
    if not rows:
        sys.exit(f"error: {args.out}: no records yet")
    seconds = np.array([r["seconds"] for r in rows])
    reasons: dict[str, int] = {}
    for f in failures:
        reasons[f["reason"][:60]] = reasons.get(f["reason"][:60], 0) + 1
    rule = np.array([composition_says_metal(r["species"]) for r in rows])
    metal = np.array([r["is_metal"] for r in rows])
    result = {
        "spectra": len(rows), "by_set": {s: sum(r["set"] == s for r in rows)
                                         for s in sorted({r["set"] for r in rows})},
        "failures": len(failures), "failure_reasons": reasons,
        "share_metals": float(metal.mean()),
        "composition_rule_agreement": float(np.mean(rule == metal)),
        "charge_rule_agreement": float(np.mean(
            np.array([charge_rule_says_metal(r["species"]) for r in rows]) == metal)),
        "by_set_share_metals": {s: float(np.mean([r["is_metal"] for r in rows if r["set"] == s]))
                                for s in sorted({r["set"] for r in rows})},
        "atoms_per_cell_max": max(len(r["species"]) for r in rows),
        "seconds_per_spectrum_mean": float(seconds.mean()),
        "seconds_per_spectrum_median": float(np.median(seconds)),
        "seconds_median_by_atoms": {
            str(n): float(np.median([r["seconds"] for r in rows if len(r["species"]) == n]))
            for n in sorted({len(r["species"]) for r in rows})},
        "recomputed": len(lines) - len(rows),
        # every computation spent, superseded records included
        "core_hours": float((sum(r["seconds"] for r in lines)
                             + sum(f["seconds"] for f in failures)) / 3600),
        "spin_polarized": sum(r["magnetic_moment"] != 0 or len(r["eigenvalues"]) == 2
                              for r in rows)}
    from crystaldos.reference.dft_edos import MAGNETIC_ELEMENTS

    # cost per atom at the current settings (records with the eigenvalue pass), with and without
    # an element that turns spin polarization on: what disagreements_first weighs cells by
    current = [r for r in rows if r["settings"].get("nscf_kpoint_density")]
    result["seconds_per_atom_median"] = {
        label: float(np.median(values)) if values else None
        for label, values in (
            ("magnetic", [r["seconds"] / len(r["species"]) for r in current
                          if MAGNETIC_ELEMENTS & set(r["species"])]),
            ("other", [r["seconds"] / len(r["species"]) for r in current
                       if not MAGNETIC_ELEMENTS & set(r["species"])]))}
    result["recompute_changes"] = recompute_changes(lines)
    if args.queried_after is not None:
        result["queried_after"] = query_outcome(lines[args.queried_after:])
    if args.limit is None:  # the set's own summary; --limit N only prints the first N's
        atomic_write_text(args.out / "summary.json", json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


def query_outcome(lines: list[dict]) -> dict[str, int]:
    """Who was right on the records in ``lines`` (those written after the bundled ``gap-trees``
    were fitted): how many there are, how many the trees and the charge rule call differently,
    and on those how often each matched DFT."""
    from crystaldos.structures import from_arrays

    if not lines:
        return {"records": 0, "disagreements": 0, "trees_right": 0, "charge_rule_right": 0}
    crystals = [from_arrays(np.asarray(r["lattice"]), r["species"],
                            frac_coords=np.asarray(r["frac_coords"]), id=r["id"]) for r in lines]
    trees, rule = metal_calls(crystals)
    metal = np.array([r["is_metal"] for r in lines])
    differ = trees != rule
    return {"records": len(lines), "disagreements": int(differ.sum()),
            "trees_right": int(np.sum(differ & (trees == metal))),
            "charge_rule_right": int(np.sum(differ & (rule == metal)))}


def recompute_changes(lines: list[dict]) -> dict[str, dict]:
    """What recomputing changed, per setting of the superseded record (basis, and whether it
    had the non-self-consistent eigenvalue pass; a record recomputed for the Hubbard U is set
    beside the last one without it, under ``"no U -> U"``): records, class flips each way, and
    the median and extreme gap shift (eV) of the ones gapped before and after."""
    from crystaldos.reference.dft_edos import DFTSettings, hubbard_setups

    def with_u(r: dict) -> bool:  # a U on this cell's d shells
        return bool(hubbard_setups(r["species"], DFTSettings(**r["settings"])))

    first: dict[str, dict] = {}
    last: dict[str, dict] = {}
    last_without_u: dict[str, dict] = {}
    for r in lines:
        first.setdefault(r["id"], r)
        last[r["id"]] = r
        if not with_u(r):
            last_without_u[r["id"]] = r
    out: dict[str, dict] = {}
    for ident, old in first.items():
        new = last[ident]
        if new is old:
            continue
        if with_u(new) and ident in last_without_u:
            old = last_without_u[ident]
            key = "no U -> U"
        else:
            key = (f"{old['settings']['basis']}"
                   + ("" if old["settings"].get("nscf_kpoint_density") else ", no nscf pass"))
        entry = out.setdefault(key, {"records": 0, "gapped_to_metal": [], "metal_to_gapped": [],
                                     "gap_shifts": []})
        entry["records"] += 1
        if old["is_metal"] != new["is_metal"]:
            flip = "gapped_to_metal" if new["is_metal"] else "metal_to_gapped"
            entry[flip].append(f"{new['formula']} ({old['gap']:.2f} -> {new['gap']:.2f} eV)")
        elif not new["is_metal"]:
            entry["gap_shifts"].append(new["gap"] - old["gap"])
    for entry in out.values():
        shifts = np.array(entry.pop("gap_shifts"))
        entry["gapped_both"] = int(shifts.size)
        if shifts.size:
            entry["gap_shift_median_eV"] = round(float(np.median(shifts)), 3)
            entry["gap_shift_range_eV"] = [round(float(shifts.min()), 3),
                                           round(float(shifts.max()), 3)]
    return out


def formula_split(formula: str) -> str:
    """train / val / test by a hash of the reduced formula (10 % each for val and test), so
    every cell of one composition lands in one split."""
    import hashlib

    bucket = int(hashlib.sha256(reduced(formula).encode()).hexdigest(), 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def record_dos(record: dict, sigma: float | None) -> list[float]:
    """A record's DOS (states/eV per cell on its grid): as stored, or broadened again from its
    stored eigenvalues to a Gaussian of ``sigma`` eV (the bands kept reach into -6..+11 eV, so
    the grid's -5..+10 eV loses only tails beyond 3 widths at its ends)."""
    from crystaldos.reference.dft_edos import eigenvalue_dos
    from crystaldos.spectra.grid import Grid

    if sigma is None or sigma == record.get("settings", {}).get("sigma"):
        return record["dos"]
    if not record.get("eigenvalues") or not record.get("k_weights"):
        sys.exit(f"error: record {record['id']} holds no eigenvalues to broaden to {sigma} eV")
    dos = eigenvalue_dos(np.array(record["eigenvalues"]), np.array(record["k_weights"]),
                         Grid.from_dict(record["grid"]).points, sigma)
    return [float(f"{v:.5g}") for v in dos]


def assemble(args: argparse.Namespace) -> None:
    """The campaign's records as a JSON-lines training set (crystaldos.datasets.jsonl): the DOS
    in states/eV per cell (normalization ``none``) with E = 0 at E_F, the split of
    :func:`formula_split`, and meta band_gap, is_metal, vbm, cbm, n_valence_paw. With
    ``--limit N`` only the first N records (the set a model was trained on, as the set grows).
    With ``--leave-out-outdated-u`` the records that ``--recompute-hubbard`` has yet to redo
    (:func:`outdated_treatment` under ``--hubbard-u``) are left out."""
    from crystaldos.reference.dft_edos import DFTSettings, hubbard_table
    from crystaldos.reference.shards import RecordShards, latest_records
    from crystaldos.safe_io import atomic_write_text

    store = RecordShards(args.out, prefix="dft_edos", part_size=args.part_size)
    current = DFTSettings(hubbard_u=hubbard_table(args.hubbard_u))
    lines, left_out = [], 0
    # --limit N: the first N lines as written, so a later recomputation (appended after them)
    # leaves the set a model was trained on as it was
    for r in latest_records(list(store.records())[:args.limit]):
        if args.leave_out_outdated_u and outdated_treatment(r, current):
            left_out += 1
            continue
        lines.append(json.dumps({
            "id": r["id"], "lattice": r["lattice"], "species": r["species"],
            "frac_coords": r["frac_coords"], "dos": record_dos(r, args.sigma), "grid": r["grid"],
            "normalization": "none", "energy_zero": "fermi", "split": formula_split(r["formula"]),
            "meta": {"band_gap": r["gap"], "is_metal": r["is_metal"], "vbm": r["vbm"],
                     "cbm": r["cbm"], "n_valence_paw": r["n_valence"], "set": r["set"]}}))
    if not lines:
        sys.exit(f"error: {args.out}: no records yet")
    args.assemble.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.assemble, "\n".join(lines) + "\n")
    print(f"{len(lines)} spectra -> {args.assemble}"
          + (f" ({left_out} left out: their U is outdated)" if left_out else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--phonondb", type=Path, default=Path("data/phonondb"),
                        help="records of scripts/make_phonondb.py (their primitive cells)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--basis", default="dzp")
    parser.add_argument("--kpoint-density", type=float, default=2.0)
    parser.add_argument("--grid-spacing", type=float, default=0.2, help="Å")
    parser.add_argument("--density-convergence", type=float, default=1e-3,
                        help="SCF density criterion (GPAW's default 1e-4)")
    parser.add_argument("--recompute-basis", default=None,
                        help="compute again, with the current settings, the records of this "
                        "basis (the new record supersedes the old one; see --recompute-elements)")
    parser.add_argument("--recompute-elements", nargs="*", default=[],
                        help="with --recompute-basis: only records holding one of these")
    parser.add_argument("--hubbard-u", choices=("mp-3d", "mp", "none"), default="mp-3d",
                        help="mp-3d (from 2026-12-07): the Materials Project's U on the d shells "
                        "of Co, Cr, Fe, Mn, Ni, V in oxides and fluorides; mp: also Mo and W "
                        "(WO2 came out gapped); none: plain PBE (every record before 2026-12-06)")
    parser.add_argument("--leave-out-outdated-u", action="store_true",
                        help="with --assemble: leave out the records --recompute-hubbard has "
                        "yet to redo")
    parser.add_argument("--recompute-hubbard", action="store_true",
                        help="compute again the records whose U (and the spin treatment that "
                        "comes with it) differs from --hubbard-u's")
    parser.add_argument("--nscf-kpoint-density", type=float, default=4.0,
                        help="k-points per Å^-1 of a non-self-consistent pass for the "
                        "eigenvalues")
    parser.add_argument("--max-atoms", type=int, default=16)
    parser.add_argument("--prefer", choices=("order", "disagreement"), default="order",
                        help="disagreement: first the crystals where the bundled gap trees and "
                        "the charge rule disagree on metallicity (see disagreements_first)")
    parser.add_argument("--part-size", type=int, default=200)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--queried-after", type=int, default=None, help="with --summary: "
                        "score the bundled gap-trees and the charge rule on the lines after "
                        "the first N (written after the trees were fitted on them)")
    parser.add_argument("--summary", action="store_true")
    parser.add_argument("--assemble", type=Path, default=None,
                        help="write the records as a JSON-lines training set to this path")
    parser.add_argument("--sigma", type=float, default=None,
                        help="with --assemble: broaden every spectrum again from its stored "
                        "eigenvalues to a Gaussian of this width, eV (see "
                        "benchmarks/edos_broadening.py)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.assemble is not None:
        assemble(args)
    elif args.summary:
        summary(args)
    else:
        build(args)


if __name__ == "__main__":
    main()
