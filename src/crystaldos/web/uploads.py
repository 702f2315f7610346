"""Uploads that can never escape their run directory or fill the disk.

Every name that comes from a browser (a file name, a zip member) is reduced to a plain base
name of safe characters before anything is written, so ``../../etc/passwd`` or an absolute
member path lands inside the target folder as ``passwd`` or is refused. Sizes are checked while
reading (a file) or before extracting (a zip: the members' declared sizes), never after.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from crystaldos.errors import CrystalDosError

#: suffixes a structure upload may have (what :mod:`crystaldos.structures.readers` reads).
STRUCTURE_SUFFIXES = (".cif", ".vasp", ".poscar", ".xyz", ".extxyz", ".json", ".jsonl",
                      ".traj")
#: names without a suffix that the readers know.
STRUCTURE_NAMES = ("POSCAR", "CONTCAR")
PASTE_FORMATS = {"cif": ".cif", "poscar": ".vasp", "extxyz": ".extxyz"}


class UploadError(CrystalDosError):
    """An upload that is refused; the message is shown on the page as it is."""


def safe_name(name: str) -> str:
    """The base name of ``name`` with anything but letters, digits, ``.``, ``-`` and ``_``
    replaced by ``_``; refuses names that are empty or only dots afterwards."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base)[:120]
    if not cleaned.strip("._"):
        raise UploadError(f"{name!r}: not a usable file name")
    return cleaned


def is_structure_name(name: str) -> bool:
    """Whether the readers know this file name (by suffix, or POSCAR/CONTCAR)."""
    lower = name.lower()
    return (lower.endswith(STRUCTURE_SUFFIXES) or (lower.endswith(".gz") and
            lower[:-3].endswith(STRUCTURE_SUFFIXES)) or
            any(name.startswith(n) for n in STRUCTURE_NAMES))


def check_structure_name(name: str) -> None:
    if not is_structure_name(name):
        raise UploadError(f"{name}: unknown structure format; upload a CIF, POSCAR/.vasp, "
                          f"extxyz/xyz, JSON or JSON-lines file")


def write_limited(chunks: Iterable[bytes], path: Path, limit_bytes: int, shown: str) -> Path:
    """Write ``chunks`` to ``path``, stopping (and deleting it) past ``limit_bytes``."""
    size = 0
    try:
        with open(path, "wb") as handle:
            for chunk in chunks:
                size += len(chunk)
                if size > limit_bytes:
                    raise UploadError(f"{shown}: larger than the {limit_bytes / 1e6:g} MB limit")
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise UploadError(f"{shown}: the file is empty")
    return path


def paste_suffix(text: str, fmt: str = "auto") -> str:
    """File suffix for pasted text: ``fmt`` (cif, poscar, extxyz) or guessed from the text
    (``data_`` block: CIF; a first line that is an atom count: extxyz; else POSCAR)."""
    if fmt != "auto":
        try:
            return PASTE_FORMATS[fmt]
        except KeyError:
            raise UploadError(f"{fmt!r}: unknown format; choose cif, poscar or extxyz") from None
    lines = [ln.strip() for ln in text.strip().splitlines()]
    if not lines:
        raise UploadError("the pasted text is empty")
    if any(ln.lower().startswith("data_") for ln in lines):
        return ".cif"
    if lines[0].isdigit():
        return ".extxyz"
    return ".vasp"


def extract_zip(archive: Path, target: Path, *, limit_bytes: int,
                max_members: int = 10_000) -> list[Path]:
    """Extract the structure files of ``archive`` flat into ``target`` under safe names.

    Directories, empty files and files of unknown formats are skipped; the declared sizes of
    what is kept must stay under ``limit_bytes`` in total (a zip bomb is refused before
    anything is written); two members with the same base name get numbered names.
    """
    shown = archive.name
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as err:
        raise UploadError(f"{shown}: not a readable zip archive ({err})") from None
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > max_members:
            raise UploadError(f"{shown}: {len(members)} members; at most {max_members}")
        kept = []
        for m in members:
            base = re.split(r"[\\/]", m.filename)[-1]
            if base and not base.startswith(".") and m.file_size > 0 and \
                    is_structure_name(base):
                kept.append((m, safe_name(base)))
        if not kept:
            raise UploadError(f"{shown}: no structure files (CIF, POSCAR, extxyz, JSON) inside")
        total = sum(m.file_size for m, _ in kept)
        if total > limit_bytes:
            raise UploadError(f"{shown}: unpacks to {total / 1e6:.1f} MB, over the "
                              f"{limit_bytes / 1e6:g} MB limit")
        target.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        used: set[str] = set()
        for member, name in kept:
            stem, dot, suffix = name.partition(".")
            unique, k = name, 1
            while unique in used:
                unique, k = f"{stem}-{k}{dot}{suffix}", k + 1
            used.add(unique)
            path = target / unique
            with zf.open(member) as source:
                chunks = iter(lambda s=source: s.read(1 << 20), b"")
                write_limited(chunks, path, member.file_size + 1, f"{shown}:{member.filename}")
            written.append(path)
    return written
