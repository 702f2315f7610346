"""The DFT eDOS campaign script: record format, order and held-out formulas."""

import argparse
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def campaign_module():
    spec = importlib.util.spec_from_file_location("make_dft_edos",
                                                  ROOT / "scripts" / "make_dft_edos.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_record_holds_edges_dos_and_windowed_eigenvalues() -> None:
    pytest.importorskip("gpaw")
    from ase.build import bulk

    from crystaldos.reference.dft_edos import DFTSettings
    from crystaldos.structures.readers import from_ase

    module = campaign_module()
    si = from_ase(bulk("Si", "diamond", a=5.431), id="si")
    record = module._compute(("si", "test", si),
                             DFTSettings(basis="sz(dzp)", kpoint_density=1.5).to_dict())
    assert record["is_metal"] is False and 0.3 < record["gap"] < 2.0
    assert record["vbm"] < 0 < record["cbm"] and record["n_valence"] == 8.0
    assert len(record["dos"]) == 300 and abs(sum(record["k_weights"]) - 1) < 1e-4
    import numpy as np

    eps = np.array(record["eigenvalues"])  # (spins, k-points, kept bands)
    inside = (eps >= -6.0) & (eps <= 11.0)
    assert inside.any(axis=(0, 1)).all()  # every kept band reaches into -6..11 eV


def test_order_is_by_size_then_mixed_and_holds_out_test_formulas(shared_datasets: Path) -> None:
    module = campaign_module()
    args = argparse.Namespace(shared=shared_datasets, phonondb=Path("no-such-folder"),
                              max_atoms=4)
    order = module.campaign_order(args)
    held = module.held_out_formulas(shared_datasets)
    assert order and not {module.reduced(c.formula) for _, _, c in order} & held
    assert all(c.n_atoms <= 4 for _, _, c in order)
    sizes = [c.n_atoms for _, _, c in order]
    assert sizes[0] == 1 and set(sizes[:40]) >= {1, 2, 3, 4}  # sizes interleave
    for n in (2, 4):  # the k-th cell of size n comes at about k * n
        assert sum(s == n for s in sizes[:80]) in range(80 // n - 8, 80 // n + 9)
    pairs = [c for _, _, c in order if c.n_atoms == 2]
    ids = [ident for ident, _, c in order if c.n_atoms == 2]
    assert ids != sorted(ids) and len({s for _, s, _ in order[:40]}) > 1  # sets mixed
    assert [i for i, _, _ in module.campaign_order(args)] == [i for i, _, _ in order]  # fixed
    assert len(pairs) > 10
    assert not any(module.NOBLE_GASES & set(c.species) for _, _, c in order)
    # The superconductor-workflow structures bring the intermetallics the phonon sets lack.
    from crystaldos.evaluation.baselines import composition_says_metal

    alt = [c for _, s, c in order if s == "jarvis_alt"]
    assert sum(composition_says_metal(c.species) for c in alt) > len(alt) / 2


def test_assembled_records_load_as_a_training_set_split_by_formula(tmp_path: Path) -> None:
    import json

    from crystaldos.datasets.jsonl import load_jsonl
    from crystaldos.reference.shards import RecordShards
    from crystaldos.spectra.grid import EDOS_300

    module = campaign_module()
    store = RecordShards(tmp_path / "campaign", prefix="dft_edos")
    cells = {"nacl-a": ("NaCl", ["Na", "Cl"], 1.1), "nacl-b": ("NaCl", ["Na", "Cl"], 1.2),
             "cu": ("Cu", ["Cu"], 0.0)}
    for ident, (formula, species, gap) in cells.items():
        store.append({"id": ident, "set": "test", "formula": formula,
                      "lattice": [[0, 2.8, 2.8], [2.8, 0, 2.8], [2.8, 2.8, 0]],
                      "species": species,
                      "frac_coords": [[0, 0, 0], [0.5, 0.5, 0.5]][:len(species)],
                      "gap": gap, "is_metal": gap == 0, "vbm": None, "cbm": None,
                      "n_valence": 8.0, "grid": EDOS_300.to_dict(), "dos": [0.5] * 300})
    out = tmp_path / "set.jsonl"
    module.assemble(argparse.Namespace(out=tmp_path / "campaign", part_size=200, assemble=out,
                                       limit=None, sigma=None, hubbard_u="mp",
                                       leave_out_outdated_u=False))
    data = load_jsonl(out)
    assert len(data) == 3 and data.energy_zero == "fermi" and data.normalization == "none"
    by_id = {r.id: r for r in data.records}
    assert by_id["nacl-a"].split == by_id["nacl-b"].split == module.formula_split("Na2Cl2")
    assert by_id["cu"].meta["is_metal"] and by_id["nacl-a"].meta["band_gap"] == 1.1
    splits = [module.formula_split(f"Na{k}Cl") for k in range(1, 200)]
    assert 0.05 < splits.count("test") / len(splits) < 0.15  # about 10 % each
    assert json.loads(out.read_text().splitlines()[0])["split"] in ("train", "val", "test")


def test_a_recomputed_record_supersedes_the_old_one_but_not_within_an_earlier_limit(
        tmp_path: Path) -> None:
    from crystaldos.datasets.jsonl import load_jsonl
    from crystaldos.reference.dft_edos import DFTSettings
    from crystaldos.reference.shards import RecordShards, latest_records
    from crystaldos.spectra.grid import EDOS_300

    module = campaign_module()
    store = RecordShards(tmp_path / "campaign", prefix="dft_edos")
    old = DFTSettings(basis="szp(dzp)").to_dict()

    def record(ident: str, species: list[str], gap: float, settings: dict) -> dict:
        return {"id": ident, "set": "test", "formula": "".join(species),
                "lattice": [[0, 2.7, 2.7], [2.7, 0, 2.7], [2.7, 2.7, 0]], "species": species,
                "frac_coords": [[0, 0, 0], [0.25, 0.25, 0.25]], "gap": gap,
                "is_metal": gap == 0, "vbm": None, "cbm": None, "n_valence": 18.0,
                "grid": EDOS_300.to_dict(), "dos": [0.5] * 300, "settings": settings}

    store.append(record("cucl", ["Cu", "Cl"], 0.0, old))
    store.append(record("nacl", ["Na", "Cl"], 5.0, old))
    new = DFTSettings(basis="dzp", kpoint_density=2.0, density_convergence=1e-3)
    todo = module.to_recompute(store, "szp(dzp)", {"Cu"}, new)
    assert [ident for ident, _, _ in todo] == ["cucl"]
    assert list(todo[0][2].species) == ["Cu", "Cl"]
    store.append(record("cucl", ["Cu", "Cl"], 0.24, new.to_dict()))
    assert module.to_recompute(store, "szp(dzp)", {"Cu"}, new) == []  # done: nothing left
    assert [r["id"] for r in latest_records(store.records())] == ["cucl", "nacl"]

    def assembled(limit: int | None) -> dict:
        out = tmp_path / f"set-{limit}.jsonl"
        module.assemble(argparse.Namespace(out=tmp_path / "campaign", part_size=200,
                                           assemble=out, limit=limit, sigma=None,
                                           hubbard_u="none", leave_out_outdated_u=False))
        return {r.id: r.meta["band_gap"] for r in load_jsonl(out).records}

    assert assembled(None) == {"cucl": 0.24, "nacl": 5.0}
    assert assembled(2) == {"cucl": 0.0, "nacl": 5.0}  # the set as it was after 2 lines


def test_recompute_changes_count_class_flips_and_gap_shifts() -> None:
    script = campaign_module()
    szp = {"basis": "szp(dzp)"}
    dzp = {"basis": "dzp", "nscf_kpoint_density": 4.0}

    def record(ident: str, settings: dict, gap: float) -> dict:
        return {"id": ident, "formula": ident, "settings": settings, "gap": gap,
                "is_metal": gap == 0, "species": ["Ni", "O"] if ident == "NiO" else ["X"]}

    lines = [record("CuCl", szp, 0.0), record("Si", szp, 0.96), record("NaCl", dzp, 5.0),
             record("CoAl", szp, 0.22), record("CuCl", dzp, 0.44), record("Si", dzp, 0.61),
             record("CoAl", dzp, 0.0)]
    changes = script.recompute_changes(lines)
    assert list(changes) == ["szp(dzp), no nscf pass"]  # NaCl was computed once
    entry = changes["szp(dzp), no nscf pass"]
    assert entry["records"] == 3 and entry["gapped_both"] == 1
    assert entry["metal_to_gapped"] == ["CuCl (0.00 -> 0.44 eV)"]
    assert entry["gapped_to_metal"] == ["CoAl (0.22 -> 0.00 eV)"]
    assert entry["gap_shift_median_eV"] == pytest.approx(-0.35)
    # recomputed for the Hubbard U (twice): set beside the last record without it
    with_u = {**dzp, "hubbard_u": [["Ni", 6.2]]}
    lines += [record("NiO", szp, 0.0), record("NiO", dzp, 0.0), record("NiO", with_u, 1.9),
              record("NiO", with_u, 2.3)]
    assert script.recompute_changes(lines)["no U -> U"]["metal_to_gapped"] == [
        "NiO (0.00 -> 2.30 eV)"]


def test_disagreements_come_first_and_keep_their_order() -> None:
    from ase.build import bulk

    from crystaldos.evaluation.baselines import charge_rule_says_metal
    from crystaldos.prediction.band_gap import GapTrees
    from crystaldos.structures.readers import from_ase

    module = campaign_module()
    items = [(name, "test", from_ase(bulk(name, kind, a=a).repeat((n, 1, 1)), id=name))
             for name, kind, a, n in (
        ("Cu", "fcc", 3.61, 1), ("NaCl", "rocksalt", 5.64, 1), ("LiBi", "cesiumchloride", 3.4, 2),
        ("Si", "diamond", 5.43, 1), ("NiO", "rocksalt", 4.17, 1),
        ("CsAu", "cesiumchloride", 4.26, 1), ("W", "bcc", 3.16, 1))]
    trees = GapTrees.load()
    calls = trees.predict([c for _, _, c in items])[0] >= 0.5
    differ = [bool(t != charge_rule_says_metal(c.species))
              for t, (_, _, c) in zip(calls, items, strict=True)]
    assert any(differ) and not all(differ)  # the alkali aurides and bismuthides differ today
    ordered = module.disagreements_first(items)
    assert sorted(i for i, _, _ in ordered) == sorted(i for i, _, _ in items)
    first = [(c.n_atoms * (module.MAGNETIC_COST if "Ni" in c.species else 1.0), k)
             for k, ((_, _, c), d) in enumerate(zip(items, differ, strict=True)) if d]
    expected = ([items[k][0] for _, k in sorted(first)]
                + [i for (i, _, _), d in zip(items, differ, strict=True) if not d])
    assert [i for i, _, _ in ordered] == expected
    # where both are queried, the 2-atom spin-polarized NiO cell (the trees call FM NiO a
    # metal today, the charge rule gapped) costs more than the 4-atom LiBi cell
    queried = {i for (i, _, _), d in zip(items, differ, strict=True) if d}
    if {"NiO", "LiBi", "CsAu"} <= queried:
        assert expected[:3] == ["CsAu", "LiBi", "NiO"]
    assert module.disagreements_first([]) == []


def test_assembly_broadens_spectra_again_from_the_stored_eigenvalues() -> None:
    import numpy as np

    from crystaldos.spectra.grid import EDOS_300

    module = campaign_module()
    points = EDOS_300.points
    # one unpolarized level at E_F on two k-points and a spin-split pair at +2 eV
    record = {"id": "toy", "grid": EDOS_300.to_dict(), "dos": [1.0] * 300,
              "settings": {"sigma": 0.1}, "k_weights": [0.25, 0.75],
              "eigenvalues": [[[0.0], [0.0]]]}
    assert module.record_dos(record, None) == record["dos"]
    assert module.record_dos(record, 0.1) == record["dos"]  # already at that width
    wide = np.array(module.record_dos(record, 0.2))
    centre = int(np.argmin(np.abs(points)))
    assert wide[centre] == pytest.approx(2 / (0.2 * np.sqrt(2 * np.pi)), rel=1e-3)
    assert wide.sum() * EDOS_300.step == pytest.approx(2.0, rel=1e-3)  # two electrons
    spins = {**record, "eigenvalues": [[[2.0], [2.0]], [[2.1], [2.1]]]}
    pair = np.array(module.record_dos(spins, 0.3))
    assert pair.sum() * EDOS_300.step == pytest.approx(2.0, rel=1e-3)  # one per channel
    with pytest.raises(SystemExit, match="toy holds no eigenvalues"):
        module.record_dos({**record, "eigenvalues": []}, 0.2)


def test_stored_eigenvalues_give_back_the_stored_spectra() -> None:
    import numpy as np

    from crystaldos.reference.shards import RecordShards

    folder = ROOT / "data" / "dft_edos"
    if not folder.is_dir():
        pytest.skip("the committed DFT eDOS set is not in this checkout")
    module = campaign_module()
    from itertools import islice

    records = list(islice(RecordShards(folder, prefix="dft_edos").records(), 0, None, 8))
    for record in records:
        # broaden again at the stored width (the settings say another, so it is recomputed)
        again = module.record_dos({**record, "settings": {"sigma": None}},
                                  record["settings"]["sigma"])
        stored = np.array(record["dos"])
        assert np.abs(np.array(again) - stored).max() < 0.01 * stored.max(), record["id"]


def test_recompute_hubbard_picks_oxides_computed_without_u_cheapest_first(
        tmp_path: Path) -> None:
    from crystaldos.reference.dft_edos import DFTSettings, mp_hubbard_u
    from crystaldos.reference.shards import RecordShards
    from crystaldos.spectra.grid import EDOS_300

    module = campaign_module()
    store = RecordShards(tmp_path / "campaign", prefix="dft_edos")
    plain, plus_u = DFTSettings(), DFTSettings(hubbard_u=mp_hubbard_u())

    def record(ident: str, species: list[str], seconds: float, settings: dict,
               spins: int = 2) -> dict:
        return {"id": ident, "set": "test", "formula": "".join(species),
                "lattice": [[0, 2.1, 2.1], [2.1, 0, 2.1], [2.1, 2.1, 0]], "species": species,
                "frac_coords": [[0, 0, 0], [0.5, 0.5, 0.5]], "gap": 0.0, "is_metal": True,
                "vbm": None, "cbm": None, "n_valence": 16.0, "grid": EDOS_300.to_dict(),
                "dos": [0.5] * 300, "settings": settings, "seconds": seconds,
                "eigenvalues": [[[-1.0, 1.0]]] * spins}

    store.append(record("nio", ["Ni", "O"], 70.0, plain.to_dict()))
    store.append(record("mno", ["Mn", "O"], 40.0, plain.to_dict()))
    store.append(record("fes", ["Fe", "S"], 10.0, plain.to_dict()))  # no U for a sulfide
    todo = module.to_recompute_hubbard(store, plus_u)
    assert [ident for ident, _, _ in todo] == ["mno", "nio"]
    store.append(record("mno", ["Mn", "O"], 50.0, plus_u.to_dict()))
    assert [ident for ident, _, _ in module.to_recompute_hubbard(store, plus_u)] == ["nio"]
    back = module.to_recompute_hubbard(store, plain)  # dropping the table recomputes mno
    assert [ident for ident, _, _ in back] == ["mno"]
    # a V oxide computed with its U but unpolarized (before spin came with the U)
    store.append(record("vo", ["V", "O"], 5.0, plus_u.to_dict(), spins=1))
    assert [ident for ident, _, _ in module.to_recompute_hubbard(store, plus_u)] == ["vo", "nio"]
    # a training set without the labels still to redo
    out = tmp_path / "set.jsonl"
    module.assemble(argparse.Namespace(out=tmp_path / "campaign", part_size=200, assemble=out,
                                       limit=None, sigma=None, hubbard_u="mp",
                                       leave_out_outdated_u=True))
    from crystaldos.datasets.jsonl import load_jsonl

    assert sorted(r.id for r in load_jsonl(out).records) == ["fes", "mno"]


@pytest.mark.slow
def test_query_outcome_counts_who_was_right_where_trees_and_rule_differ() -> None:
    from ase.build import bulk

    from crystaldos.evaluation.baselines import charge_rule_says_metal
    from crystaldos.prediction.band_gap import GapTrees
    from crystaldos.structures.readers import from_ase

    module = campaign_module()
    crystals = [from_ase(bulk(name, kind, a=a), id=name) for name, kind, a in (
        ("Cu", "fcc", 3.61), ("NaCl", "rocksalt", 5.64), ("CsAu", "cesiumchloride", 4.26),
        ("LiBi", "cesiumchloride", 3.4))]
    truth = {"Cu": True, "NaCl": False, "CsAu": False, "LiBi": True}  # CsAu: an ionic auride
    lines = [{"lattice": c.lattice.tolist(), "species": list(c.species),
              "frac_coords": c.frac_coords.tolist(), "id": c.id, "is_metal": truth[c.id]}
             for c in crystals]
    trees = GapTrees.load("gap-trees").predict(crystals)[0] >= 0.5
    rule = [charge_rule_says_metal(c.species) for c in crystals]
    differ = [t != r for t, r in zip(trees, rule, strict=True)]
    outcome = module.query_outcome(lines)
    assert outcome["records"] == 4 and outcome["disagreements"] == sum(differ)
    assert outcome["trees_right"] == sum(d and t == truth[c.id] for d, t, c
                                         in zip(differ, trees, crystals, strict=True))
    assert outcome["trees_right"] + outcome["charge_rule_right"] == outcome["disagreements"]
    assert module.query_outcome([])["records"] == 0
