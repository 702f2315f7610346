"""Phonons of one Kyoto phonondb material (VASP PBEsol force sets) computed with phonopy.

An archive ``materials-id-<N>-<formula>-<spacegroup>-<number>.tar.lzma`` holds, in one folder,
``POSCAR-unitcell`` (conventional cell), ``phonopy.conf`` (``DIM`` and, where present,
``PRIMITIVE_AXIS``), ``FORCE_SETS`` and optionally ``BORN``. :func:`phonons_from_archive` builds
the force constants, the primitive cell, the mode histogram on :data:`FINE_GRID` (q-mesh by
``mesh_length``, Gamma-centred, non-analytical correction where ``BORN`` exists), the share of
imaginary modes and Cv, S and F at :data:`TEMPERATURES`.

Units: frequencies in cm^-1; the histogram holds modes per primitive cell per bin (it sums to
3 N_prim, modes outside the grid counted apart); Cv and S in J/(K mol), F in kJ/mol, per mole of
*primitive cells* (phonopy's convention; divide by ``n_atoms`` for per mole of atoms).
"""

from __future__ import annotations

import io
import lzma
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from crystaldos.errors import SourcedError
from crystaldos.physics.constants import THZ_TO_CM1
from crystaldos.spectra.grid import PHONON, Grid

#: Fine common histogram grid: 10 cm^-1 bins with edges on multiples of 10 from -1000 to
#: 5000 cm^-1, so every 20 cm^-1 bin of the JARVIS (phdos66) and MP (phdos51) grids is the sum of
#: exactly two fine bins.
FINE_GRID = Grid(-995.0, 10.0, 600, "cm^-1", PHONON)
#: Temperatures (K) of the stored thermal properties.
TEMPERATURES = (100.0, 200.0, 300.0, 500.0, 800.0)
#: A mode below this frequency (cm^-1) counts as imaginary (numerical noise of the acoustic
#: modes near Gamma is a few 0.1 cm^-1).
IMAGINARY_BELOW = -5.0
#: Files read from an archive (``BORN`` optional).
ARCHIVE_FILES = ("POSCAR-unitcell", "phonopy.conf", "FORCE_SETS", "BORN")


class PhonondbError(SourcedError):
    """One archive could not be read or computed; one line naming the archive and the problem."""


@dataclass(frozen=True)
class ArchiveFiles:
    """The phonopy inputs of one archive, as text (``born`` is None without NAC data)."""

    name: str
    unitcell: str
    conf: str
    force_sets: str
    born: str | None


@dataclass(frozen=True)
class PhonondbResult:
    """Phonons of one material; see the module docstring for units.

    lattice (3, 3) Å, species (N,), frac_coords (N, 3): the primitive cell; histogram (G,) on
    :data:`FINE_GRID`; below / above: modes per cell outside it; mesh: q-mesh numbers.
    """

    lattice: np.ndarray
    species: tuple[str, ...]
    frac_coords: np.ndarray
    histogram: np.ndarray
    below: float
    above: float
    min_frequency: float
    max_frequency: float
    imaginary_fraction: float
    mesh: tuple[int, int, int]
    thermal: dict[str, list[float]]
    has_born: bool
    seconds: float

    def to_record(self, ident: str, split: str, formula: str) -> dict:
        """The JSON record of the built data set (histogram trimmed to its non-zero span)."""
        nonzero = np.flatnonzero(self.histogram > 0)
        first, last = (int(nonzero[0]), int(nonzero[-1]) + 1) if nonzero.size else (0, 0)
        return {
            "id": ident, "split": split, "formula": formula,
            "lattice": np.round(self.lattice, 6).tolist(), "species": list(self.species),
            "frac_coords": np.round(self.frac_coords, 6).tolist(),
            "grid": FINE_GRID.to_dict(), "hist_first": first,
            "hist": [float(f"{v:.5g}") for v in self.histogram[first:last]],
            "modes_below_grid": round(self.below, 6), "modes_above_grid": round(self.above, 6),
            "min_frequency_cm1": round(self.min_frequency, 3),
            "max_frequency_cm1": round(self.max_frequency, 3),
            "imaginary_fraction": round(self.imaginary_fraction, 6),
            "mesh": list(self.mesh), "has_born": self.has_born, **self.thermal,
            "seconds": round(self.seconds, 3)}


def read_archive(data: bytes, name: str) -> ArchiveFiles:
    """The phonopy inputs inside the bytes of one ``.tar.lzma`` archive."""
    try:
        files: dict[str, str] = {}
        with tarfile.open(fileobj=io.BytesIO(lzma.decompress(data))) as tar:
            for member in tar.getmembers():
                base = member.name.rsplit("/", 1)[-1]
                if member.isfile() and base in ARCHIVE_FILES:
                    handle = tar.extractfile(member)
                    if handle is not None:
                        files[base] = handle.read().decode("utf-8", errors="replace")
    except (lzma.LZMAError, tarfile.TarError, EOFError, OSError) as err:
        raise PhonondbError(name, f"not a readable .tar.lzma archive ({err})") from None
    missing = [f for f in ARCHIVE_FILES[:3] if f not in files]
    if missing:
        raise PhonondbError(name, f"archive lacks {', '.join(missing)}")
    return ArchiveFiles(name, files["POSCAR-unitcell"], files["phonopy.conf"],
                        files["FORCE_SETS"], files.get("BORN"))


def _matrix(text: str, what: str, name: str) -> np.ndarray:
    try:
        values = [float(Fraction(v)) for v in text.split()]
    except (ValueError, ZeroDivisionError):
        raise PhonondbError(name, f"{what} = {text!r} is not a list of numbers") from None
    if len(values) == 3:
        return np.diag(values)
    if len(values) == 9:
        return np.array(values).reshape(3, 3)
    raise PhonondbError(name, f"{what} needs 3 or 9 numbers, got {len(values)}")


def parse_conf(text: str, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(supercell matrix, primitive matrix or None) from a ``phonopy.conf``."""
    settings = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            settings[key.strip().upper()] = value.split("#")[0].strip()
    if "DIM" not in settings:
        raise PhonondbError(name, "phonopy.conf has no DIM")
    supercell = _matrix(settings["DIM"], "DIM", name)
    primitive = settings.get("PRIMITIVE_AXIS") or settings.get("PRIMITIVE_AXES")
    if primitive is None or primitive.lower() == "auto":
        return supercell, None
    return supercell, _matrix(primitive, "PRIMITIVE_AXIS", name)


def load_phonopy(files: ArchiveFiles):
    """A phonopy object with force constants from the archive's files."""
    import phonopy

    supercell, primitive = parse_conf(files.conf, files.name)
    with tempfile.TemporaryDirectory(prefix="phonondb-") as folder:
        paths = {}
        for base, text in (("POSCAR-unitcell", files.unitcell), ("FORCE_SETS", files.force_sets),
                           ("BORN", files.born)):
            if text is not None:
                paths[base] = Path(folder) / base
                paths[base].write_text(text)
        try:
            return phonopy.load(supercell_matrix=supercell,
                                primitive_matrix="P" if primitive is None else primitive,
                                unitcell_filename=str(paths["POSCAR-unitcell"]),
                                force_sets_filename=str(paths["FORCE_SETS"]),
                                born_filename=str(paths["BORN"]) if "BORN" in paths else None,
                                is_compact_fc=True, log_level=0)
        except Exception as err:  # phonopy raises many types on inconsistent inputs
            raise PhonondbError(files.name, f"phonopy could not load the force sets "
                                            f"({type(err).__name__}: {err})") from None


def primitive_cell(files: ArchiveFiles) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """(lattice, species, frac_coords) of the primitive cell, without computing phonons."""
    from phonopy.interface.vasp import read_vasp_from_strings
    from phonopy.structure.cells import get_primitive

    primitive = parse_conf(files.conf, files.name)[1]
    try:
        unitcell = read_vasp_from_strings(files.unitcell)
        prim = get_primitive(unitcell, primitive) if primitive is not None else unitcell
    except Exception as err:
        raise PhonondbError(files.name, f"bad POSCAR-unitcell or PRIMITIVE_AXIS "
                                        f"({type(err).__name__}: {err})") from None
    return (np.asarray(prim.cell), tuple(prim.symbols),
            np.asarray(prim.scaled_positions))


def mode_histogram(frequencies: np.ndarray, weights: np.ndarray,
                   grid: Grid = FINE_GRID) -> tuple[np.ndarray, float, float]:
    """Modes per cell in each bin of ``grid`` and the counts below and above it.

    frequencies: (Q, B) cm^-1 on the q-mesh; weights: (Q,) multiplicities. The histogram sums
    to B (3 N) minus the modes outside the grid.
    """
    freq = np.asarray(frequencies, dtype=np.float64)
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64)[:, None], freq.shape)
    w = w / np.asarray(weights, dtype=np.float64).sum()
    edges = grid.start - grid.step / 2 + grid.step * np.arange(grid.count + 1)
    hist, _ = np.histogram(freq.ravel(), bins=edges, weights=w.ravel())
    return hist, float(w[freq < edges[0]].sum()), float(w[freq >= edges[-1]].sum())


def phonons_from_archive(files: ArchiveFiles, mesh_length: float = 50.0,
                         temperatures: tuple[float, ...] = TEMPERATURES) -> PhonondbResult:
    """Compute the phonons of one archive (see the module docstring)."""
    import warnings

    start = time.perf_counter()
    ph = load_phonopy(files)
    try:
        ph.run_mesh(mesh_length, is_gamma_center=True, with_eigenvectors=False)
        freq = np.asarray(ph.mesh.frequencies) * THZ_TO_CM1
        weights = np.asarray(ph.mesh.weights)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # acoustic modes at Gamma, deprecations
            ph.run_thermal_properties(temperatures=list(temperatures))
        tp = ph.thermal_properties
    except Exception as err:
        raise PhonondbError(files.name, f"phonopy failed on the mesh "
                                        f"({type(err).__name__}: {err})") from None
    if not np.all(np.isfinite(freq)):
        raise PhonondbError(files.name, "non-finite phonon frequencies")
    hist, below, above = mode_histogram(freq, weights)
    n_modes = freq.shape[1]
    wq = weights / weights.sum()
    imaginary = float((wq[:, None] * (freq < IMAGINARY_BELOW)).sum() / n_modes)
    prim = ph.primitive
    thermal = {"temperatures_K": [float(t) for t in temperatures],
               "cv_J_per_K_mol": [round(float(v), 5) for v in tp.heat_capacity],
               "entropy_J_per_K_mol": [round(float(v), 5) for v in tp.entropy],
               "free_energy_kJ_per_mol": [round(float(v), 6) for v in tp.free_energy]}
    return PhonondbResult(
        lattice=np.asarray(prim.cell), species=tuple(prim.symbols),
        frac_coords=np.asarray(prim.scaled_positions), histogram=hist,
        below=below, above=above, min_frequency=float(freq.min()),
        max_frequency=float(freq.max()), imaginary_fraction=imaginary,
        mesh=tuple(int(m) for m in ph.mesh.mesh_numbers), thermal=thermal,
        has_born=files.born is not None, seconds=time.perf_counter() - start)


class GitArchives:
    """Archive bytes by path from a bare git copy of the phonondb repository (one long-lived
    ``git cat-file --batch`` process, so reading an archive costs no process start)."""

    def __init__(self, git_dir: str | Path, revision: str = "HEAD") -> None:
        self.git_dir, self.revision = str(git_dir), revision
        if not Path(git_dir).exists():
            raise PhonondbError(str(git_dir), "no such git directory")
        self._proc = subprocess.Popen(["git", "--git-dir", self.git_dir, "cat-file", "--batch"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(self, path: str) -> bytes:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(f"{self.revision}:{path}\n".encode())
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().decode().split()
        if len(header) != 3:
            raise PhonondbError(path, f"not in {self.git_dir} at {self.revision}")
        data = self._proc.stdout.read(int(header[2]))
        self._proc.stdout.read(1)  # the newline after the object
        return data

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)

    def __enter__(self) -> GitArchives:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FolderArchives:
    """Archive bytes by path from a checkout (or any folder with the same relative paths)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def read(self, path: str) -> bytes:
        try:
            return (self.root / path).read_bytes()
        except OSError as err:
            raise PhonondbError(str(self.root / path), err.strerror or "unreadable") from None

    def close(self) -> None:
        pass

    def __enter__(self) -> FolderArchives:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def open_archives(source: str | Path) -> GitArchives | FolderArchives:
    """A reader of archive bytes from a bare git directory or a checkout folder."""
    source = Path(source)
    if (source / "HEAD").is_file() and (source / "objects").is_dir():
        return GitArchives(source)
    return FolderArchives(source)


def iter_index(path: str | Path) -> Iterator[dict]:
    """Entries of the shared ``index.jsonl.gz`` (mp_id, archive, formula, natoms, split)."""
    import gzip
    import json

    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
