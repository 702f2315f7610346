"""Reference electronic DOS from DFT: GPAW (PBE, LCAO basis, k-mesh by density, Fermi-Dirac).

One self-consistent calculation per crystal on a Gamma-centred Monkhorst-Pack mesh of
``kpoint_density`` points per reciprocal Å (ASE's definition). From the eigenvalues on that mesh
(irreducible k-points with their weights) come the Fermi level, the band edges, the gap and
whether the crystal is a metal (:func:`band_edges`); the DOS is a Gaussian of width ``sigma`` eV on
the edos300 grid relative to E_F, in states/eV per cell (both spins), with the eigenvalues kept so
the set can be re-smeared or re-aligned (to the VBM) later. Spin polarization is used when the
crystal holds an element of :data:`MAGNETIC_ELEMENTS`, started from ferromagnetic moments.
Settings may add a Hubbard U on the d shells of given elements (:func:`hubbard_setups`; the
Materials Project's values from :func:`mp_hubbard_u`), applied, as there, only where oxygen or
fluorine is the most electronegative element of the cell; such a cell is spin-polarized with
those elements starting magnetic (:func:`cell_treatment`). The
cell is first idealized to its symmetric primitive cell (:func:`idealized`), so GPAW finds every
symmetry and reduces the k-mesh fully; the result carries the cell it computed.

GPAW is an optional dependency (the ``reference`` extra); it is imported only here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from crystaldos.errors import SourcedError
from crystaldos.reference.xtb import gaussian_dos
from crystaldos.spectra.grid import EDOS_300, Grid
from crystaldos.structures.crystal import Crystal

#: Elements whose compounds are computed spin-polarized (ferromagnetic start). 3d metals with
#: open shells in common compounds; see the README's measurement on Fe, Ni, Co and their oxides.
MAGNETIC_ELEMENTS = frozenset({"Cr", "Mn", "Fe", "Co", "Ni"})
#: Initial magnetic moment per magnetic atom, Bohr magnetons.
INITIAL_MOMENT = 3.0
#: A crystal whose gap is below this (eV) counts as a metal.
METAL_GAP = 0.05


class DFTError(SourcedError):
    """One crystal could not be computed (SCF not converged, unsupported element...)."""


@dataclass(frozen=True)
class DFTSettings:
    """Settings of one campaign; stored beside every spectrum."""

    mode: str = "lcao"
    basis: str = "dzp"
    xc: str = "PBE"
    kpoint_density: float = 2.5
    #: real-space grid spacing, Å (GPAW's default is 0.2)
    grid_spacing: float = 0.2
    occupation_width: float = 0.05
    sigma: float = 0.1
    max_iterations: int = 150
    #: SCF density convergence (electrons per valence electron); None keeps GPAW's 1e-4
    density_convergence: float | None = None
    #: k-points per Å^-1 of a non-self-consistent pass on the converged density, whose
    #: eigenvalues then give the edges, the class and the DOS; None uses the SCF mesh. A coarse
    #: mesh can miss where a metal's bands cross: B2 CoAl has a 0.22 eV "gap" on the 5x5x5 mesh
    #: of 2.0/Å and none on the 9x9x9 mesh of 4.0/Å.
    nscf_kpoint_density: float | None = None
    spin: str = "auto"  # auto | on | off
    #: with spin "auto", a cell holding one of these is computed spin-polarized; with spin
    #: polarized, atoms of these elements start at ``initial_moment`` (ferromagnetic), others 0
    magnetic_elements: tuple[str, ...] = tuple(sorted(MAGNETIC_ELEMENTS))
    #: initial magnetic moment per magnetic atom, Bohr magnetons
    initial_moment: float = INITIAL_MOMENT
    #: spglib tolerance (Å) to which the cell is idealized before the calculation; None keeps
    #: the cell as given. Relaxed cells are symmetric only to ~1e-5 Å, which GPAW's exact symmetry
    #: search misses: a JARVIS rocksalt TiN kept 4 of 48 operations, 100 instead of 20 k-points
    #: and ran 306 s instead of 68 s (benchmarks/dft_cell_speed.py).
    symprec: float | None = 1e-3
    #: ((element, U in eV), ...): Dudarev's effective U on the d shell of these elements, in
    #: cells whose most electronegative element is one of ``hubbard_anions``; () for plain PBE
    hubbard_u: tuple[tuple[str, float], ...] = ()
    hubbard_anions: tuple[str, ...] = ("O", "F")

    def __post_init__(self) -> None:
        # records store the settings as JSON (lists); keep tuples so equal settings compare equal
        object.__setattr__(self, "magnetic_elements", tuple(self.magnetic_elements))
        object.__setattr__(self, "hubbard_u",
                           tuple((str(el), float(u)) for el, u in self.hubbard_u))
        object.__setattr__(self, "hubbard_anions", tuple(self.hubbard_anions))

    def to_dict(self) -> dict:
        """The settings as plain JSON types (tuples as lists), as records store them."""
        import json
        from dataclasses import asdict

        return json.loads(json.dumps(asdict(self)))


def mp_hubbard_u() -> tuple[tuple[str, float], ...]:
    """The Materials Project's U values (eV) for oxides and fluorides, as pymatgen's
    ``MPRelaxSet`` holds them (the same table under O and F): Co, Cr, Fe, Mn, Mo, Ni, V, W."""
    from pymatgen.io.vasp.sets import MPRelaxSet

    table = MPRelaxSet.CONFIG["INCAR"]["LDAUU"]
    if table["O"] != table["F"]:
        raise ValueError("pymatgen's MPRelaxSet has different U for oxides and fluorides")
    return tuple(sorted((str(el), float(u)) for el, u in table["O"].items() if u))


#: the 3d elements of the Materials Project's U table. Its 4d and 5d entries (Mo, W) are left
#: out of the campaign's table: with W's 6.2 eV, WO2, a metal in experiment, came out with a
#: 2.6 eV gap (see the README).
HUBBARD_3D = frozenset({"Co", "Cr", "Fe", "Mn", "Ni", "V"})
#: the named U tables of the campaign and the reference check
HUBBARD_TABLES = ("mp-3d", "mp", "none")


def hubbard_table(name: str) -> tuple[tuple[str, float], ...]:
    """The U table called ``name``: ``mp`` (:func:`mp_hubbard_u`), ``mp-3d`` (its 3d
    elements, :data:`HUBBARD_3D`) or ``none`` (plain PBE)."""
    if name not in HUBBARD_TABLES:
        raise ValueError(f"no U table {name!r}; choose one of {', '.join(HUBBARD_TABLES)}")
    if name == "none":
        return ()
    table = mp_hubbard_u()
    return table if name == "mp" else tuple((el, u) for el, u in table if el in HUBBARD_3D)


def hubbard_setups(species: list[str] | tuple[str, ...], settings: DFTSettings
                   ) -> dict[str, str]:
    """GPAW's ``setups`` argument that puts ``settings.hubbard_u`` on the d shells of the
    cell's elements, or {} when the cell's most electronegative element (Pauling) is not one of
    ``settings.hubbard_anions`` (the Materials Project's rule: U in oxides and fluorides)."""
    from pymatgen.core import Element

    present = set(species)
    u = {el: value for el, value in settings.hubbard_u if el in present and value}
    if not u:
        return {}
    most = max(present, key=lambda el: np.nan_to_num(Element(el).X))  # noble gases: NaN
    if most not in settings.hubbard_anions:
        return {}
    return {el: f":d,{value:g}" for el, value in sorted(u.items())}


def magnetic_species(species: list[str] | tuple[str, ...], settings: DFTSettings
                     ) -> frozenset[str]:
    """The elements of a cell that start with ``settings.initial_moment``: those of
    ``magnetic_elements`` and, as in the Materials Project's GGA+U runs, every element that
    gets a U there (a U on the d shell of an unpolarized V oxide cannot split a partly filled
    level)."""
    return frozenset(settings.magnetic_elements) | frozenset(hubbard_setups(species, settings))


def cell_treatment(species: list[str] | tuple[str, ...], settings: DFTSettings) -> dict:
    """What ``settings`` do to one cell beyond the shared numerics: spin polarization
    (``spin``), the elements that start at ``settings.initial_moment`` (``magnetic``) and the
    Hubbard U setups (``setups``)."""
    magnetic = magnetic_species(species, settings)
    spin = spin_polarized_species(species, settings.spin, magnetic)
    return {"spin": spin, "setups": hubbard_setups(species, settings),
            "magnetic": sorted(set(species) & magnetic) if spin else []}


@dataclass(frozen=True)
class BandEdges:
    """Band edges (eV, same zero as the eigenvalues; cbm NaN for a metal) and gap >= 0."""

    vbm: float
    cbm: float
    gap: float
    is_metal: bool


@dataclass(frozen=True)
class DFTEDOS:
    """One DFT eDOS.

    eigenvalues: (S, K, B) eV relative to E_F; k_weights: (K,) summing to 1; dos: (G,) states/eV
    per cell on ``grid`` relative to E_F (both spins); vbm, cbm relative to E_F (NaN for metals);
    n_valence: valence electrons of the PAW setups per cell; magnetic_moment: total, Bohr
    magnetons per cell.
    """

    eigenvalues: np.ndarray
    k_weights: np.ndarray
    dos: np.ndarray
    grid: Grid
    vbm: float
    cbm: float
    gap: float
    is_metal: bool
    n_valence: float
    magnetic_moment: float
    kpts: tuple[int, int, int]
    settings: DFTSettings
    seconds: float
    crystal: Crystal | None = None
    extra: dict = field(default_factory=dict)


def band_edges(eigenvalues: np.ndarray, filled_bands: list[float],
               metal_gap: float = METAL_GAP) -> BandEdges:
    """VBM, CBM, gap and metallicity by counting bands.

    eigenvalues: (S, K, B) eV on the k-mesh, ascending per k-point; filled_bands[s]: electrons
    of spin channel s (for an unpolarized calculation, half the electrons: each band holds two).
    A channel whose count is not a whole number has a partly filled band, so the crystal is a
    metal (a half-metal too). Otherwise band ``n_s - 1`` is the top valence band of channel s:
    VBM is its maximum over k and channels, CBM the minimum of band ``n_s``; overlapping or
    closer than ``metal_gap`` means a (semi)metal. Occupations of single levels are never used,
    so a partly filled degenerate level at E_F is a metal, not a gap.
    """
    eps = np.asarray(eigenvalues, dtype=np.float64)
    if eps.ndim != 3 or eps.size == 0 or len(filled_bands) != eps.shape[0]:
        raise ValueError("eigenvalues must be (spins, k-points, bands), one count per spin")
    counts = [round(float(n)) for n in filled_bands]
    nan = float("nan")
    if any(abs(float(n) - c) > 0.01 for n, c in zip(filled_bands, counts, strict=True)):
        return BandEdges(nan, nan, 0.0, True)
    tops = [eps[s, :, c - 1].max() for s, c in enumerate(counts) if c >= 1]
    bottoms = [eps[s, :, c].min() for s, c in enumerate(counts) if c < eps.shape[2]]
    vbm = float(max(tops)) if tops else nan
    cbm = float(min(bottoms)) if bottoms else nan
    gap = cbm - vbm
    if not np.isfinite(gap) or gap < metal_gap:
        return BandEdges(vbm, nan, 0.0, True)
    return BandEdges(vbm, cbm, float(gap), False)


def spin_polarized(crystal: Crystal, spin: str = "auto",
                   magnetic_elements: frozenset[str] | tuple[str, ...] = MAGNETIC_ELEMENTS
                   ) -> bool:
    """Whether ``crystal`` is computed spin-polarized: ``spin`` "on" or "off", or "auto": when
    it holds one of ``magnetic_elements``."""
    return spin_polarized_species(crystal.species, spin, magnetic_elements)


def spin_polarized_species(species: list[str] | tuple[str, ...], spin: str,
                           magnetic_elements: frozenset[str] | tuple[str, ...]) -> bool:
    """:func:`spin_polarized` of a cell's ``species``."""
    if spin not in ("auto", "on", "off"):
        raise ValueError(f"spin must be auto, on or off, not {spin!r}")
    if spin != "auto":
        return spin == "on"
    return any(s in magnetic_elements for s in species)


def idealized(crystal: Crystal, symprec: float | None) -> Crystal:
    """The primitive cell of ``crystal`` with its atoms moved onto their ideal symmetric sites.

    spglib's standardized primitive cell at tolerance ``symprec`` Å, Niggli-reduced; it may hold
    fewer atoms than ``crystal`` (a supercell shrinks to its primitive cell) and is rotated,
    which leaves the DOS per primitive cell unchanged. ``symprec=None``, or a cell spglib
    cannot analyse, gives ``crystal`` back unchanged.
    """
    import spglib

    from crystaldos.structures.readers import from_arrays

    if symprec is None:
        return crystal
    atoms = crystal.to_ase()
    cell = (atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers)
    found = spglib.standardize_cell(cell, to_primitive=True, no_idealize=False, symprec=symprec)
    if found is None:
        return crystal
    from ase import Atoms
    from ase.build import niggli_reduce

    lattice, positions, numbers = found
    ideal = Atoms(numbers=numbers, cell=lattice, scaled_positions=positions, pbc=True)
    niggli_reduce(ideal)  # standardized primitive cells can be very oblique (bct: 141°)
    return from_arrays(ideal.cell[:], ideal.get_chemical_symbols(),
                       frac_coords=ideal.get_scaled_positions(), id=crystal.id,
                       source=crystal.source)


def scf_convergence(settings: DFTSettings) -> dict:
    """GPAW's ``convergence`` argument for ``settings``."""
    out: dict = {"maximum iterations": settings.max_iterations}
    if settings.density_convergence is not None:
        out["density"] = settings.density_convergence
    return out


def gpaw_failure(where: str, what: str, err: Exception) -> DFTError:
    """A one-line DFTError for an exception GPAW raised."""
    reason = str(err).splitlines()[0] if str(err) else ""
    return DFTError(where, f"{what}: {type(err).__name__}: {reason}")


def eigenvalue_dos(eigenvalues: np.ndarray, k_weights: np.ndarray, points: np.ndarray,
                   sigma: float) -> np.ndarray:
    """DOS (G,) in states/eV per cell, both spins, at energies ``points`` (G,) eV, of
    eigenvalues (S, K, B) eV (S = 1 unpolarized, 2 spin channels) on k-points of weights (K,)
    summing to 1: a Gaussian of width ``sigma`` eV per level. A record's stored eigenvalues
    (the bands that reach into the stored window) give its DOS again at any width."""
    eps = np.asarray(eigenvalues, dtype=np.float64)
    # gaussian_dos counts two electrons per level; a spin-resolved level holds one
    weights = np.broadcast_to(np.asarray(k_weights, dtype=np.float64)[None, :, None]
                              * (1.0 if eps.shape[0] == 1 else 0.5), eps.shape)
    return gaussian_dos(eps.ravel(), weights.ravel(), np.asarray(points), sigma)


def gpaw_edos(crystal: Crystal, settings: DFTSettings | None = None,
              grid: Grid = EDOS_300) -> DFTEDOS:
    """Run GPAW on ``crystal`` and return its eDOS (see the module docstring)."""
    try:
        from gpaw import GPAW, FermiDirac
    except ImportError:
        raise DFTError(crystal.source or crystal.id, "GPAW is not installed; install the "
                       "'reference' extra (see the README)") from None
    from ase.calculators.calculator import kpts2sizeandoffsets

    settings = settings or DFTSettings()
    where = crystal.source or crystal.id
    crystal = idealized(crystal, settings.symprec)
    atoms = crystal.to_ase()
    treatment = cell_treatment(crystal.species, settings)
    spin = treatment["spin"]
    if spin:
        atoms.set_initial_magnetic_moments([settings.initial_moment
                                            if s in treatment["magnetic"] else 0.0
                                            for s in crystal.species])
    size, _ = kpts2sizeandoffsets(density=settings.kpoint_density, gamma=True, atoms=atoms)
    start = time.perf_counter()
    calc = GPAW(mode=settings.mode, basis=settings.basis, xc=settings.xc, h=settings.grid_spacing,
                kpts={"size": tuple(int(n) for n in size), "gamma": True},
                occupations=FermiDirac(settings.occupation_width), nbands="nao",
                convergence=scf_convergence(settings),
                spinpol=spin, setups=treatment["setups"] or "paw",
                txt=None, parallel={"domain": 1})
    atoms.calc = calc
    try:
        atoms.get_potential_energy()
    except Exception as err:  # GPAW raises KohnShamConvergenceError, KeyError for setups...
        raise gpaw_failure(where, "GPAW failed", err) from None
    if settings.nscf_kpoint_density is not None:
        size, _ = kpts2sizeandoffsets(density=settings.nscf_kpoint_density, gamma=True,
                                      atoms=atoms)
        try:
            calc = calc.fixed_density(kpts={"size": tuple(int(n) for n in size), "gamma": True},
                                      txt=None)
        except Exception as err:
            raise gpaw_failure(where, "GPAW's non-self-consistent pass failed", err) from None
    fermi = float(calc.get_fermi_level())
    n_k = len(calc.get_ibz_k_points())
    n_s = calc.get_number_of_spins()
    eps = np.array([[calc.get_eigenvalues(kpt=k, spin=s) for k in range(n_k)]
                    for s in range(n_s)])
    weights = np.asarray(calc.get_k_point_weights(), dtype=np.float64)
    if not (np.all(np.isfinite(eps)) and np.isfinite(fermi)):
        raise DFTError(where, "GPAW returned non-finite eigenvalues or Fermi level")
    n_electrons = float(calc.get_number_of_electrons())
    moment = float(calc.get_magnetic_moment()) if spin else 0.0
    filled = ([n_electrons / 2] if n_s == 1 else
              [(n_electrons + moment) / 2, (n_electrons - moment) / 2])
    if eps.shape[2] <= int(np.ceil(max(filled) - 1e-6)):
        raise DFTError(where, f"only {eps.shape[2]} bands for {max(filled):g} electrons in one "
                              "spin channel: no empty band to place the conduction band")
    edges = band_edges(eps, filled)
    rel = eps - fermi
    dos = eigenvalue_dos(rel, weights / weights.sum(), grid.points, settings.sigma)
    n_valence = n_electrons
    return DFTEDOS(eigenvalues=rel, k_weights=weights / weights.sum(), dos=dos, grid=grid,
                   vbm=edges.vbm - fermi, cbm=edges.cbm - fermi, gap=edges.gap,
                   is_metal=edges.is_metal, n_valence=n_valence, magnetic_moment=moment,
                   kpts=tuple(int(n) for n in size), settings=settings,
                   seconds=time.perf_counter() - start, crystal=crystal)
