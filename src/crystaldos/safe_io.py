"""The one way crystaldos writes a file or claims a directory: nothing half-written, nothing lost.

* :func:`atomic_target` yields a hidden temporary path beside the destination; when the block ends
  without an exception the temporary file is flushed to disk, renamed over the destination and the
  rename itself is synced. On any exception (Ctrl-C and a full disk included) the temporary file is
  removed and the old destination is left exactly as it was.
* :func:`atomic_write_text` / :func:`atomic_write_bytes` are that for one string or byte string.
* :class:`DirectoryLock` holds an exclusive ``flock`` on ``DIR/.lock`` so that a second writer of a
  run directory stops with a clear message instead of interleaving shards with the first one. The
  lock dies with its process, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, TypeVar

from crystaldos.errors import CrystalDosError

#: Marker in the names of temporary files, so a run can tell its own leftovers from other files.
TMP_SUFFIX = ".tmp"


C = TypeVar("C", bound="Committable")


class OutputError(CrystalDosError):
    """An output cannot be written (disk full, read-only, no permission, path is a folder)."""


def describe_os_error(path: str | Path, err: OSError) -> str:
    """One line naming ``path`` and what the operating system said, without a traceback."""
    reason = err.strerror or type(err).__name__
    return f"{path}: cannot write: {reason}"


def fsync_directory(directory: str | Path) -> None:
    """Make a rename or a new file inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_name(path: Path) -> Path:
    """A hidden name beside ``path`` that no other writer uses (pid and a random tag)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}")


def check_writable_target(path: str | Path) -> Path:
    """``path`` as a Path whose parent folders exist; an :class:`OutputError` if it is a folder
    or its folder cannot be created."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(describe_os_error(path.parent, err)) from None
    return path


class AtomicFile:
    """A file that is written under a temporary name and only replaces ``path`` on :meth:`commit`.

    For streaming writers: ``open`` the temporary path, write, then ``commit()`` (success) or
    ``discard()`` (failure or interruption; the old ``path`` stays untouched).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = check_writable_target(path)
        self.tmp = temporary_name(self.path)
        self.done = False

    def commit(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            with open(self.tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(self.tmp, self.path)
            fsync_directory(self.path.parent)
        except OSError as err:
            self.tmp.unlink(missing_ok=True)
            raise OutputError(describe_os_error(self.path, err)) from None

    def discard(self) -> None:
        self.done = True
        with contextlib.suppress(OSError):
            self.tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_target(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` (see module docstring).

    OS errors (disk full, read-only file system, permission denied) come out as one-line
    :class:`OutputError` naming ``path``.
    """
    target = AtomicFile(path)
    try:
        yield target.tmp
    except OSError as err:
        target.discard()
        raise OutputError(describe_os_error(target.path, err)) from None
    except BaseException:
        target.discard()
        raise
    target.commit()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


class Committable(Protocol):
    def close(self) -> None: ...
    def abort(self) -> None: ...


@contextlib.contextmanager
def committing(writer: C, path: str | Path) -> Iterator[C]:
    """Run the block with ``writer``; ``close()`` (commit) it when the block succeeds, else
    ``abort()`` it, so ``path`` holds either its old content or the complete new one. An OS
    error (disk full...) becomes a one-line :class:`OutputError` naming ``path``."""
    try:
        yield writer
    except BaseException as exc:
        writer.abort()
        if isinstance(exc, OSError):
            raise OutputError(describe_os_error(path, exc)) from None
        raise
    writer.close()


class DirectoryLock:
    """Exclusive lock on a run directory (``DIR/.lock``), held until :meth:`release` or exit.

    Raises :class:`OutputError` at once, naming the directory and the holder's pid, when
    another process holds it.
    """

    FILE = ".lock"

    def __init__(self, directory: str | Path) -> None:
        import fcntl

        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._fd: int | None = os.open(self.directory / self.FILE, os.O_RDWR | os.O_CREAT,
                                           0o644)
        except OSError as err:
            raise OutputError(describe_os_error(self.directory, err)) from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(self._fd, 64).decode(errors="replace").strip() or "another process"
            os.close(self._fd)
            self._fd = None
            raise OutputError(f"{self.directory}: in use by a running job (pid {holder}); wait "
                              "for it to finish or use another output directory") from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, str(os.getpid()).encode())

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> DirectoryLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
