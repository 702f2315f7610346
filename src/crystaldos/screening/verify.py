"""Verify a shortlist with a more accurate method: phonon DOS from phonopy finite displacements
with the CHGNet universal potential (its weights ship in the ``chgnet`` wheel, so this runs
offline), or the electronic DOS from GFN2-xTB. Needs ``pip install 'crystaldos[reference]'``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError, StructureError
from crystaldos.evaluation.metrics import mae_per_spectrum
from crystaldos.spectra.grid import ELECTRONIC, Grid
from crystaldos.spectra.normalize import normalize
from crystaldos.spectra.resample import smear_levels
from crystaldos.structures.crystal import Crystal

#: printed with every phonon verification: what the reference is and is not.
CHGNET_NOTE = ("Reference: phonopy finite displacements with CHGNet, a universal potential "
               "trained on Materials Project PBE(+U) relaxations. Such potentials are softer "
               "than DFT (phonon frequencies come out systematically low), so the reference is "
               "a sanity check of shape and stability, not a DFT phonon DOS.")
XTB_NOTE = ("Reference: GFN2-xTB at the Gamma point of a supercell (tight binding, not DFT: "
            "gaps and band widths differ from PBE).")


def supercell_matrix(crystal: Crystal, min_length: float = 8.0, max_atoms: int = 200,
                     ) -> np.ndarray:
    """Diagonal supercell with every height at least ``min_length`` Å (within ``max_atoms``)."""
    from crystaldos.reference.edos import supercell_repeats

    return np.diag(supercell_repeats(crystal.lattice, min_length, max_atoms, crystal.n_atoms))


#: Peak memory of one CHGNet force call (forces only) per supercell atom, MB, per squared
#: neighbour within its 3 Å bond-graph cutoff: 52 MB per atom for 128-atom diamond (28 such
#: neighbours; 6.6 GB in all, 10.3 GB when stresses are computed too). Measured with
#: benchmarks/verify_memory.py.
CHGNET_MB_PER_ATOM_PER_NEIGHBOUR2 = 0.066
CHGNET_BASE_MB = 400.0


def bond_neighbours(crystal: Crystal, cutoff: float = 3.0) -> float:
    """Mean number of neighbours within ``cutoff`` Å (CHGNet's bond-graph cutoff)."""
    from crystaldos.graphs.neighbors import radius_neighbors

    nb = radius_neighbors(crystal, cutoff)
    return len(nb.centers) / max(crystal.n_atoms, 1)


def chgnet_atom_budget(crystal: Crystal, memory_gb: float) -> int:
    """Most supercell atoms whose CHGNet force call fits in ``memory_gb`` (see the constants)."""
    per_atom = CHGNET_MB_PER_ATOM_PER_NEIGHBOUR2 * max(bond_neighbours(crystal), 1.0) ** 2 + 1.0
    return max(crystal.n_atoms, int((memory_gb * 1000.0 - CHGNET_BASE_MB) / per_atom))


class _ChgnetForces:
    """Forces from pretrained CHGNet without the stress pass (a third less memory)."""

    def __init__(self) -> None:
        from chgnet.model import CHGNet

        self.model = CHGNet.load(verbose=False)

    def forces(self, atoms: Any) -> np.ndarray:
        from pymatgen.io.ase import AseAtomsAdaptor

        result = self.model.predict_structure(AseAtomsAdaptor.get_structure(atoms), task="ef")
        return np.asarray(result["f"], dtype=np.float64)


@cache
def _chgnet_forces() -> _ChgnetForces:
    return _ChgnetForces()


def phonon_mesh(crystal: Crystal, *, calculator: Any = None, min_length: float = 8.0,
                max_atoms: int = 200, memory_gb: float = 4.0, mesh: int = 16,
                displacement: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies (nq, 3N) THz, negative = imaginary; q-point weights (nq,)) of ``crystal``
    on a Gamma-centred ``mesh``^3 q-mesh: phonopy displacements of ``displacement`` Å, forces
    from ``calculator`` (an ASE calculator; default: pretrained CHGNet, forces only). The
    supercell has at most ``max_atoms`` atoms, and with CHGNet at most as many as fit in
    ``memory_gb`` (dense crystals get smaller supercells)."""
    import ase
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    chgnet = None
    if calculator is None:
        chgnet = _chgnet_forces()
        max_atoms = min(max_atoms, chgnet_atom_budget(crystal, memory_gb))
    unit = PhonopyAtoms(symbols=list(crystal.species), cell=crystal.lattice,
                        scaled_positions=crystal.frac_coords)
    # identity primitive matrix: the modes are those of the input cell (3N per q-point)
    phonon = Phonopy(unit, supercell_matrix=supercell_matrix(crystal, min_length, max_atoms),
                     primitive_matrix=np.eye(3))
    phonon.generate_displacements(distance=displacement)
    forces = []
    for cell in phonon.supercells_with_displacements:
        atoms = ase.Atoms(cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions,
                          pbc=True)
        if chgnet is not None:
            forces.append(chgnet.forces(atoms))
            continue
        atoms.calc = calculator
        forces.append(np.asarray(atoms.get_forces()))
    phonon.forces = forces
    phonon.produce_force_constants()
    phonon.run_mesh([mesh] * 3, is_gamma_center=True)
    mesh_dict = phonon.get_mesh_dict()
    return (np.asarray(mesh_dict["frequencies"]),
            np.asarray(mesh_dict["weights"], dtype=np.float64))


def chgnet_phonon_dos(crystal: Crystal, grid: Grid, *, calculator: Any = None,
                      min_length: float = 8.0, max_atoms: int = 200, memory_gb: float = 4.0,
                      mesh: int = 16, displacement: float = 0.01) -> np.ndarray:
    """(count,) phonon DOS of ``crystal`` on ``grid`` (states per grid unit per cell, 3N modes
    in total) from :func:`phonon_mesh`, each mode smeared by half a grid step."""
    thz, weights = phonon_mesh(crystal, calculator=calculator, min_length=min_length,
                               max_atoms=max_atoms, memory_gb=memory_gb, mesh=mesh,
                               displacement=displacement)
    return mesh_dos(thz, weights, grid)


def mesh_dos(thz: np.ndarray, weights: np.ndarray, grid: Grid) -> np.ndarray:
    """(count,) DOS on ``grid`` (3N modes in all) of mesh frequencies (nq, 3N) THz with
    q-point weights (nq,), each mode smeared by half a grid step."""
    per_unit = grid.converted("THz").step / grid.step  # THz per grid unit, inverted below
    levels = thz / per_unit  # in the grid's unit
    mode_weights = np.repeat(weights / weights.sum(), thz.shape[1])
    return smear_levels(levels.reshape(-1), grid, 0.5 * grid.step, mode_weights)


def verify_shortlist(rows: list[dict[str, Any]], structures: Mapping[str, Crystal], grid: Grid,
                     normalization: str, *, on_failure: Callable[[str, str], None] | None = None,
                     calculator: Any = None) -> list[dict[str, Any]]:
    """Reference DOS for each row (needs ``key`` and ``dos``; its structure is
    ``structures[key]``), in the run's normalization. Returns rows with ``reference`` (list),
    ``mae`` and ``reference_method``; structures whose reference fails go to
    ``on_failure(key, reason)``."""
    out = []
    for row in rows:
        try:
            crystal = structures.get(row["key"])
            if crystal is None:
                raise CrystalDosError("no stored structure (the run was made by an older "
                                      "crystaldos; screen it again into a new directory)")
            if grid.kind == ELECTRONIC:
                from crystaldos.reference.edos import xtb_edos

                ref = xtb_edos(crystal, grid=grid).per_electron()
                method = "GFN2-xTB (Gamma supercell)"
                if normalization != "valence":
                    ref = normalize(ref, grid, normalization)[0]
            else:
                ref = chgnet_phonon_dos(crystal, grid, calculator=calculator)
                method = "phonopy + CHGNet"
                if normalization != "none":  # the reference holds 3N modes per cell already
                    ref = normalize(ref, grid, normalization, n_atoms=crystal.n_atoms)[0]
        except (CrystalDosError, StructureError, ValueError, RuntimeError) as err:
            if on_failure is None:
                raise
            on_failure(row["key"], f"{type(err).__name__}: {err}")
            continue
        pred = np.asarray(row["dos"], dtype=np.float64)
        out.append({**{k: v for k, v in row.items() if k != "dos"}, "predicted": pred.tolist(),
                    "reference": ref.tolist(), "reference_method": method,
                    "mae": float(mae_per_spectrum(pred[None], ref[None])[0])})
    return out


def plot_verification(rows: list[dict[str, Any]], grid: Grid, path: str | Path,
                      note: str) -> Path:
    """Predicted beside reference DOS, one panel per structure, with ``note`` as caption."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(rows)
    cols = min(n, 4)
    nrows = (n + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(3.4 * cols, 2.6 * nrows + 0.6),
                             squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, row in zip(axes.flat, rows, strict=False):
        ax.plot(grid.points, row["reference"], color="black", label="reference")
        ax.plot(grid.points, row["predicted"], label="predicted")
        ax.set_title(f"{row.get('id')} ({row.get('formula')}), MAE {row['mae']:.3f}", fontsize=8)
    axes[0][0].legend(fontsize=7)
    fig.text(0.01, 0.005, note, fontsize=7, wrap=True)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


@dataclass
class Verification:
    """What :func:`verify_run` did: the reference's caveat, the checked rows (see
    :func:`verify_shortlist`) and the files written."""

    note: str
    rows: list[dict[str, Any]]
    table: Path
    figure: Path


def verify_run(directory: str | Path, by: str, *, top: int = 5, ascending: bool = False,
               on_failure: Callable[[str, str], None] | None = None,
               calculator: Any = None) -> Verification:
    """Verify the ``top`` rows of a screening run ranked by column ``by``: reference spectra
    of their stored structures beside the predictions, written to ``verify.parquet`` and
    ``verify.png`` in the run directory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crystaldos.safe_io import atomic_target
    from crystaldos.screening.report import ranked
    from crystaldos.screening.store import read_meta, read_shortlist

    directory = Path(directory)
    meta = read_meta(directory)
    grid = Grid.from_dict(meta["grid"])
    note = XTB_NOTE if grid.kind == ELECTRONIC else CHGNET_NOTE
    keys = ranked(directory, by, top=top, ascending=ascending).column("key").to_pylist()
    found = read_shortlist(directory, keys)
    structures = {k: crystal for k, (_, crystal) in found.items() if crystal is not None}
    checked = verify_shortlist([found[k][0] for k in keys], structures, grid,
                               meta["normalization"], on_failure=on_failure,
                               calculator=calculator)
    if not checked:
        raise CrystalDosError(f"{directory}: no structure of the shortlist could be verified")
    table, figure = directory / "verify.parquet", directory / "verify.png"
    with atomic_target(table) as tmp:
        pq.write_table(pa.Table.from_pylist(checked), tmp)
    plot_verification(checked, grid, figure, note)
    return Verification(note, checked, table, figure)
