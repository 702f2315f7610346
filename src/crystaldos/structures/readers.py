"""Read structures from files and objects into :class:`Crystal`, with one-line errors.

Supported inputs: CIF, POSCAR/CONTCAR (``*.vasp``, ``*.poscar``), extended XYZ (multi-frame),
JSON (a JARVIS ``atoms`` dict, a record of the shared data sets, or a list of either), JSON lines
(optionally gzipped), ASE ``Atoms``, pymatgen ``Structure``.
"""

from __future__ import annotations

import gzip
import itertools
import json
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.elements import atomic_number, is_known_symbol
from crystaldos.errors import StructureError
from crystaldos.structures.crystal import Crystal
from crystaldos.structures.validation import check_atoms, check_lattice, check_min_distance

_ASE_FORMATS = {".cif": "cif", ".vasp": "vasp", ".poscar": "vasp", ".xyz": "extxyz",
                ".extxyz": "extxyz"}
JSON_SUFFIXES = (".json", ".json.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
_ID_KEYS = ("id", "jid", "mp_id", "material_id", "index")


def _numbers_from_species(species: Sequence[Any], source: str) -> np.ndarray:
    numbers = np.empty(len(species), dtype=np.int64)
    for k, s in enumerate(species):
        if isinstance(s, int | np.integer):
            numbers[k] = int(s)
            continue
        symbol = str(s).strip()
        if not is_known_symbol(symbol):
            raise StructureError(source, f"unknown element {symbol!r}")
        numbers[k] = atomic_number(symbol)
    return numbers


def from_arrays(lattice: Any, species: Sequence[Any], *, positions: Any = None,
                frac_coords: Any = None, id: str = "structure", source: str | None = None,
                validate: bool = True, info: dict[str, Any] | None = None) -> Crystal:
    """Build a validated Crystal from a lattice (3x3 Å, rows), species (symbols or Z) and either
    Cartesian ``positions`` (Å) or ``frac_coords``.
    """
    source = source or id
    try:
        lattice_arr = np.asarray(lattice, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StructureError(source, f"lattice is not numeric: {exc}") from None
    check_lattice(lattice_arr, source)
    numbers = _numbers_from_species(list(species), source)
    if (positions is None) == (frac_coords is None):
        raise StructureError(source, "give exactly one of Cartesian or fractional coordinates")
    try:
        coords = np.asarray(positions if positions is not None else frac_coords, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StructureError(source, f"coordinates are not numeric: {exc}") from None
    if coords.size == 0:
        coords = coords.reshape(0, 3)
    if coords.ndim != 2 or coords.shape[1] != 3:
        raise StructureError(source, f"coordinates must be Nx3, got shape {coords.shape}")
    if positions is None:
        coords = coords @ lattice_arr
    check_atoms(numbers, coords, source)
    if validate:
        check_min_distance(lattice_arr, coords, source)
    return Crystal(lattice_arr, numbers, coords, id=str(id), source=source, info=info or {})


def from_ase(atoms: Any, *, id: str | None = None, source: str | None = None,
             validate: bool = True) -> Crystal:
    """Convert an ASE ``Atoms`` (must have a 3D periodic cell)."""
    ident = id or str(atoms.info.get("id", atoms.get_chemical_formula()))
    source = source or ident
    if not np.all(atoms.pbc) and np.all(np.asarray(atoms.cell) == 0):
        raise StructureError(source, "structure has no lattice (not a periodic crystal)")
    return from_arrays(np.asarray(atoms.cell), atoms.numbers, positions=atoms.positions,
                       id=ident, source=source, validate=validate)


def from_pymatgen(structure: Any, *, id: str | None = None, source: str | None = None,
                  validate: bool = True) -> Crystal:
    """Convert a pymatgen ``Structure`` (ordered; disordered sites are rejected)."""
    ident = id or str(structure.properties.get("id", structure.composition.reduced_formula))
    source = source or ident
    if not structure.is_ordered:
        raise StructureError(source, "disordered structure (partial occupancies) is not supported")
    numbers = [site.specie.Z for site in structure]
    return from_arrays(structure.lattice.matrix, numbers, positions=structure.cart_coords,
                       id=ident, source=source, validate=validate)


def from_jarvis_atoms(atoms: Mapping[str, Any], *, id: str = "structure",
                      source: str | None = None, validate: bool = True) -> Crystal:
    """Convert a JARVIS ``atoms`` dict (lattice_mat, coords, elements, cartesian)."""
    source = source or id
    try:
        lattice, coords, elements = atoms["lattice_mat"], atoms["coords"], atoms["elements"]
    except KeyError as exc:
        raise StructureError(source, f"JARVIS atoms dict lacks {exc.args[0]!r}") from None
    if atoms.get("cartesian", False):
        return from_arrays(lattice, elements, positions=coords, id=id, source=source,
                           validate=validate)
    return from_arrays(lattice, elements, frac_coords=coords, id=id, source=source,
                       validate=validate)


def record_id(record: Mapping[str, Any], default: str) -> str:
    """The identifier of a data-set record: the first of id, jid, mp_id, material_id, index."""
    for key in _ID_KEYS:
        if record.get(key) is not None:
            return str(record[key])
    return default


def from_record(record: Mapping[str, Any], *, source: str, default_id: str = "structure",
                validate: bool = True) -> Crystal:
    """Convert a record of the shared data sets or of JSON-lines inputs.

    Accepted layouts: ``{"lattice", "species", "frac_coords" | "cart_coords" | "positions"}``,
    ``{"atoms": <JARVIS atoms dict>}`` or a bare JARVIS atoms dict. The id comes from the first of
    ``id``, ``jid``, ``mp_id``, ``material_id``, ``index``.
    """
    if not isinstance(record, Mapping):
        raise StructureError(source, f"expected a JSON object, got {type(record).__name__}")
    ident = record_id(record, default_id)
    if "atoms" in record and isinstance(record["atoms"], Mapping):
        return from_jarvis_atoms(record["atoms"], id=ident, source=source, validate=validate)
    if "lattice_mat" in record:
        return from_jarvis_atoms(record, id=ident, source=source, validate=validate)
    if "lattice" not in record or "species" not in record:
        raise StructureError(source, "record has no structure (needs lattice and species, or a "
                                     "JARVIS 'atoms' dict)")
    if "frac_coords" in record:
        return from_arrays(record["lattice"], record["species"], frac_coords=record["frac_coords"],
                           id=ident, source=source, validate=validate)
    cart = record.get("cart_coords", record.get("positions"))
    if cart is None:
        raise StructureError(source, "record has no coordinates (frac_coords or cart_coords)")
    return from_arrays(record["lattice"], record["species"], positions=cart, id=ident,
                       source=source, validate=validate)


def _has_suffix(name: str, suffixes: Iterable[str]) -> bool:
    return any(name.endswith(s) for s in suffixes)


def _ase_format(path: Path) -> str | None:
    name = path.name.lower()
    if name.startswith(("poscar", "contcar")):
        return "vasp"
    return _ASE_FORMATS.get(path.suffix.lower())


def open_text(path: Path):
    """Open a text file, gzip-compressed when its name ends in .gz."""
    return gzip.open(path, "rt") if path.name.endswith(".gz") else open(path)


def _json_line_items(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, record or StructureError) per non-empty line, read lazily: a bad line is one
    failure, not the end of the file."""
    name = str(path)
    with open_text(path) as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield f"{name}:{n}", json.loads(line)
                except json.JSONDecodeError as exc:
                    yield f"{name}:{n}", StructureError(f"{name}:{n}", f"invalid JSON: {exc}")


def _read_json_structures(path: Path, validate: bool) -> Iterator[Crystal | StructureError]:
    name = str(path)
    stem = path.name.split(".")[0]
    try:
        if _has_suffix(path.name.lower(), JSONL_SUFFIXES):
            items = _json_line_items(path)
            first = next(items, None)
            second = next(items, None)
            if first is None:
                raise StructureError(name, "file contains no structures")
            single = second is None
            stream = itertools.chain([first], [] if second is None else [second], items)
        else:
            with open_text(path) as fh:
                data = json.load(fh)
            seq = data if isinstance(data, list) else [data]
            if not seq:
                raise StructureError(name, "file contains no structures")
            single = len(seq) == 1
            stream = iter([(f"{name}[{k}]" if isinstance(data, list) else name, rec)
                           for k, rec in enumerate(seq)])
        for k, (where, rec) in enumerate(stream):
            if isinstance(rec, StructureError):
                yield rec
                continue
            default = stem if single else f"{stem}#{k}"
            try:
                yield from_record(rec, source=where, default_id=default, validate=validate)
            except StructureError as err:
                yield err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, EOFError) as exc:
        raise StructureError(name, f"cannot be read as JSON: {exc}") from None


def _read_ase_structures(path: Path, fmt: str | None,
                         validate: bool) -> Iterator[Crystal | StructureError]:
    import ase.io

    name = str(path)

    def failure(exc: Exception, where: str) -> StructureError:
        if isinstance(exc, KeyError):  # ASE raises KeyError for unknown element symbols
            return StructureError(where, f"unknown element {exc.args[0]!r}")
        return StructureError(where, _reader_problem(exc, fmt))


    # frames are read lazily (flat memory for long trajectories); the first two decide the ids
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            frames = ase.io.iread(path, index=":", format=fmt)
            head = list(itertools.islice(frames, 2))
        except Exception as exc:
            raise failure(exc, name) from None
        if not head:
            raise StructureError(name, "file contains no structures")
        single = len(head) == 1
        stem = path.stem if path.suffix.lower() in _ASE_FORMATS else path.name
        k = 0
        stream = itertools.chain(head, frames)
        while True:
            where = name if single else f"{name}#{k}"
            try:
                atoms = next(stream)
            except StopIteration:
                return
            except Exception as exc:  # a broken frame ends the file: later ones cannot be found
                yield failure(exc, where)
                return
            ident = atoms.info.get("id")
            if ident is None:
                ident = stem if single else f"{stem}#{k}"
            try:
                if len(atoms) == 0:
                    raise StructureError(where, "structure has no atoms")
                yield from_ase(atoms, id=str(ident), source=where, validate=validate)
            except StructureError as err:
                yield err
            k += 1


def _looks_binary(path: Path) -> bool:
    """True for a file whose first kilobyte holds a NUL byte (gzip files are read as such)."""
    if path.name.lower().endswith(".gz"):
        return False
    with open(path, "rb") as handle:
        return b"\x00" in handle.read(1024)


def _reader_problem(exc: Exception, fmt: str | None) -> str:
    """What a parser's exception means for the user, in one line."""
    text = " ".join(str(exc).split())
    if fmt == "vasp" and isinstance(exc, ValueError | IndexError | AssertionError):
        return ("not a valid POSCAR: the element counts do not match the coordinate lines, or "
                f"a line is malformed ({text or type(exc).__name__})")
    if fmt == "cif" or "CIF" in text:
        return f"not a valid CIF file ({text or type(exc).__name__})"
    return f"cannot be read as {fmt or 'a structure file'} ({type(exc).__name__}: {text})"


def _read_cif_structures(path: Path, validate: bool) -> Iterator[Crystal | StructureError]:
    """CIF through pymatgen's parser (ASE's expands symmetry with a quadratic Python loop: 30 s
    for a 3,136-atom cell against 1.5 s here). Every data block is one structure, kept as
    written (no reduction to the primitive cell)."""
    from pymatgen.io.cif import CifParser

    name = str(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with open_text(path) as handle:
                structures = CifParser.from_str(handle.read()).parse_structures(primitive=False)
        except Exception as exc:
            raise StructureError(name, _reader_problem(exc, "cif")) from None
    if not structures:
        raise StructureError(name, "not a valid CIF file (no structure in any data block)")
    stem = path.name[:-len(".cif.gz")] if path.name.lower().endswith(".cif.gz") else path.stem
    single = len(structures) == 1
    from ase.geometry import cellpar_to_cell
    from pymatgen.core import Lattice

    for k, structure in enumerate(structures):
        where = name if single else f"{name}#{k}"
        # a CIF holds cell parameters only: orient the cell as ASE does (a along x, b in the
        # xy plane), with the same fractional coordinates
        lattice = cellpar_to_cell([*structure.lattice.abc, *structure.lattice.angles])
        oriented = structure.copy()
        oriented.lattice = Lattice(lattice)
        try:
            yield from_pymatgen(oriented, id=stem if single else f"{stem}#{k}", source=where,
                                validate=validate)
        except StructureError as err:
            yield err


def iter_file(path: str | Path, *, validate: bool = True) -> Iterator[Crystal | StructureError]:
    """Like :func:`read_structures`, but a bad frame or record is yielded as its StructureError and
    reading goes on with the next one. File-level problems are still raised.
    """
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise StructureError(name, "no such file")
    if path.is_dir():
        raise StructureError(name, "is a directory, not a structure file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise StructureError(name, f"cannot be read: {exc.strerror}") from None
    if size == 0:
        raise StructureError(name, "file is empty")
    if _looks_binary(path):
        raise StructureError(name, "is a binary file, not a text structure file (CIF, POSCAR, "
                                   "extended XYZ, JSON)")
    lower = path.name.lower()
    if _has_suffix(lower, JSON_SUFFIXES + JSONL_SUFFIXES):
        yield from _read_json_structures(path, validate)
    elif _has_suffix(lower, (".cif", ".cif.gz")):
        yield from _read_cif_structures(path, validate)
    else:
        yield from _read_ase_structures(path, _ase_format(path), validate)


def read_structures(path: str | Path, *, validate: bool = True) -> Iterator[Crystal]:
    """Yield every structure in a file (several for multi-frame extxyz or JSON lists/lines).

    Ids: extxyz ``info["id"]``, else the file stem (plus ``#k`` for frame k of a multi-frame file);
    JSON records use their ``id``/``jid``/``mp_id`` field. Raises StructureError with a one-line
    message naming the file (and frame) for any problem.
    """
    for item in iter_file(path, validate=validate):
        if isinstance(item, StructureError):
            raise item
        yield item


def read_structure(path: str | Path, *, validate: bool = True) -> Crystal:
    """Read a file that holds exactly one structure."""
    crystals = list(read_structures(path, validate=validate))
    if len(crystals) != 1:
        raise StructureError(str(path), f"expected one structure, found {len(crystals)}")
    return crystals[0]


def to_crystal(obj: Any, *, validate: bool = True) -> Crystal:
    """Convert any supported object (Crystal, ASE Atoms, pymatgen Structure, dict) to a Crystal."""
    if isinstance(obj, Crystal):
        return obj
    cls = type(obj)
    module = cls.__module__
    if module.startswith("ase") and cls.__name__ == "Atoms":
        return from_ase(obj, validate=validate)
    if module.startswith("pymatgen") and hasattr(obj, "lattice") and hasattr(obj, "sites"):
        return from_pymatgen(obj, validate=validate)
    if isinstance(obj, Mapping):
        return from_record(obj, source="<dict>", validate=validate)
    raise StructureError("<object>", f"cannot convert {cls.__name__} to a crystal")
