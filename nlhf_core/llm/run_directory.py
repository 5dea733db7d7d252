"""Guards of a run directory: one process at a time, a metrics log without torn lines, checksummed artifacts,
and filesystem failures as sentences.

* :class:`RunLock`: ``fcntl.flock`` on ``RUN/.lock``, taken before anything is read or written and held
  until the run ends (by rank 0 under ``torchrun``). The kernel drops the lock when its process exits,
  ``kill -9`` included, so a killed run never blocks its ``--resume``; a second process on the same
  directory is refused with one sentence naming the directory and the holder's PID (written in the file).
* :func:`repair_metrics`: a process killed while appending to ``metrics.jsonl`` leaves a torn last line; a
  resumed run truncates the file to its last complete record and says so. :func:`parse_metrics` reads the
  records the same way (a torn last line is skipped); an invalid line before the last is refused with its number.
* :func:`write_artifact` and :func:`verify_artifact`: every file a resumed run reads back (``config.toml``,
  ``data/pairs.safetensors``) has its SHA-256 in ``RUN/checksums.json``, recorded before the file is moved
  into place (so a kill never leaves a file without its checksum) and checked before it is read.
  Checkpoints carry their own checksums (:mod:`nlhf_core.llm.checkpoints`).
* :func:`filesystem_error`: an ``OSError`` (read-only folder, permission denied, disk full) as one sentence.

No torch here: a process can take or probe the lock cheaply.
"""

from __future__ import annotations

import errno
import importlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from nlhf_core.errors import NLHFError
from nlhf_core.files import atomic_write_json, sha256

LOCK = ".lock"
METRICS = "metrics.jsonl"
CHECKSUMS = "checksums.json"
log = logging.getLogger(__name__)

try:  # POSIX; on Windows runs are not locked
    fcntl: Any = importlib.import_module("fcntl")
except ImportError:  # pragma: no cover - Windows
    fcntl = None


class RunDirectoryError(NLHFError):
    """The run directory is in use, damaged, modified, or cannot be written."""


class RunLock:
    """An exclusive ``flock`` on ``RUN/.lock`` for the lifetime of a run (see the module docstring)."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd: int | None = fd
        self.path = path

    @classmethod
    def acquire(cls, run_dir: Path) -> RunLock:
        """Create ``run_dir`` if needed and lock it, or refuse when another process holds it.

        Args:
            run_dir: the run directory.

        Returns:
            The held lock (call :meth:`release` when the run ends).

        Raises:
            RunDirectoryError: another process holds the lock (the message names its PID).
            OSError: the directory cannot be created or the lock file cannot be opened.
        """
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is None:  # pragma: no cover - Windows
            return cls(fd, path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = _holder(fd)
            os.close(fd)
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise RunDirectoryError(
                f"{run_dir} is in use by another training process ({holder}); wait for it to finish or stop it, "
                f"or choose another --out directory."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd, path)

    def release(self) -> None:
        """Unlock and close (idempotent); the file stays, holding the last holder's PID."""
        if self.fd is not None:
            if fcntl is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _holder(fd: int) -> str:
    """``PID n`` of the process that wrote the lock file, or a vaguer phrase while it has not written yet."""
    text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    return f"PID {text}" if text.isdigit() else "its PID is not written yet"


# ---------------------------------------------------------------------------------------------- metrics log
def _record(line: bytes) -> dict[str, Any] | None:
    """The JSON object on one line, or None if the line is not one."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _invalid_line(path: Path, number: int) -> RunDirectoryError:
    return RunDirectoryError(
        f"Line {number} of {path} is not a valid metrics record; delete that line (the records before and after it "
        f"stay usable) and run again."
    )


def _parse(data: bytes, path: Path) -> list[dict[str, Any]]:
    lines = data.split(b"\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = _record(line)
        if record is None:
            if number == len(lines):  # no newline after it: the write was cut short
                break
            raise _invalid_line(path, number)
        records.append(record)
    return records


def parse_metrics(path: Path) -> list[dict[str, Any]]:
    """Every record of ``metrics.jsonl`` in order; a torn last line (a killed write) is skipped.

    Args:
        path: the ``metrics.jsonl`` file (missing: no records).

    Returns:
        The records, each a dict with at least ``stage`` and ``step``.

    Raises:
        RunDirectoryError: a line before the last is not a JSON object (the message gives its number).
    """
    return _parse(path.read_bytes(), path) if path.exists() else []


def repair_metrics(path: Path) -> None:
    """Truncate ``metrics.jsonl`` after its last complete record if a killed write left a torn last line.

    A complete record missing only its newline gets one. The repair is reported in one log line.

    Args:
        path: the ``metrics.jsonl`` file (missing: nothing to do).

    Raises:
        RunDirectoryError: a line before the last is not a JSON object (the message gives its number).
    """
    if not path.exists():
        return
    data = path.read_bytes()
    _parse(data, path)  # refuses an invalid line before the last, naming it
    if not data or data.endswith(b"\n"):
        return
    start = data.rfind(b"\n") + 1
    last = data[start:]
    if _record(last) is not None:
        with open(path, "ab") as f:
            f.write(b"\n")
        return
    with open(path, "r+b") as f:
        f.truncate(start)
    log.warning(
        "%s: dropped its torn last line (line %d, %d bytes, cut short when the run was stopped); "
        "the run continues after the last complete record.",
        path,
        data.count(b"\n") + 1,
        len(last),
    )


# ---------------------------------------------------------------------------------------------- checksums
def _recorded(run_dir: Path) -> dict[str, str]:
    path = run_dir / CHECKSUMS
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise RunDirectoryError(
            f"{path} is damaged (it is not the run's table of checksums); start a new --out directory."
        )
    return data


def write_artifact(run_dir: Path, name: str, write: Callable[[Path], object]) -> Path:
    """Write ``RUN/name`` with ``write(tmp)``, record its SHA-256 in ``checksums.json``, then move it into place.

    Args:
        run_dir: the run directory.
        name: the file's path inside it, with ``/`` separators (``"data/pairs.safetensors"``).
        write: writes the file's content to the path it is given.

    Returns:
        The written file's path.
    """
    path = run_dir / name
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    write(tmp)
    recorded = _recorded(run_dir)
    recorded[name] = sha256(tmp)
    atomic_write_json(run_dir / CHECKSUMS, recorded)
    os.replace(tmp, path)
    return path


def carry_checksums(source: Path, target: Path, folders: Iterable[str]) -> None:
    """Record in ``target``'s ``checksums.json`` the checksums ``source`` recorded for files under ``folders``
    that were copied from ``source`` into ``target`` (e.g. a study's shared stages), checking each copy.

    Args:
        source: the run directory the files were copied from.
        target: the run directory they were copied into.
        folders: the copied paths inside the run directory, with ``/`` separators (``"data"``).

    Raises:
        RunDirectoryError: a copied file does not match the checksum its source recorded.
    """
    prefixes = tuple(f.rstrip("/") + "/" for f in folders)
    carried = {
        name: digest
        for name, digest in _recorded(source).items()
        if name.startswith(prefixes) and (target / name).exists()
    }
    if not carried:
        return
    for name, digest in carried.items():
        if sha256(target / name) != digest:
            raise RunDirectoryError(
                f"{target / name} does not match the checksum {source} recorded for it; delete {target} and rerun."
            )
    atomic_write_json(target / CHECKSUMS, {**_recorded(target), **carried})


def verify_artifact(run_dir: Path, name: str, fix: str) -> Path:
    """Check ``RUN/name`` against its recorded SHA-256 before it is read.

    Args:
        run_dir: the run directory.
        name: the file's path inside it, as given to :func:`write_artifact`.
        fix: what the user should do if it does not match (the end of the sentence).

    Returns:
        The verified file's path.

    Raises:
        RunDirectoryError: no checksum was recorded, or the file's does not match (it was modified or damaged).
    """
    path = run_dir / name
    expected = _recorded(run_dir).get(name)
    if expected is None:
        raise RunDirectoryError(
            f"{path} has no recorded checksum in {run_dir / CHECKSUMS}, so it cannot be trusted; {fix}."
        )
    if sha256(path) != expected:
        raise RunDirectoryError(
            f"{path} does not match the checksum recorded when the run wrote it (it was modified or damaged); {fix}."
        )
    return path


# ---------------------------------------------------------------------------------------------- OS errors
def filesystem_error(err: OSError, run_dir: Path) -> RunDirectoryError:
    """``err`` (a failed read, write, rename or folder creation in ``run_dir``) as one sentence with the fix."""
    where = err.filename if err.filename is not None else run_dir
    what = err.strerror or type(err).__name__
    if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        fix = f"free some disk space, then resume the run in {run_dir}"
    elif err.errno == errno.EROFS:
        fix = "make that file system writable and resume the run, or choose an --out directory on a writable disk"
    elif err.errno in (errno.EACCES, errno.EPERM):
        fix = f"make {run_dir} and the folders in it writable (or choose another --out directory), then resume the run"
    else:
        fix = f"check {run_dir} (or choose another --out directory), then resume the run"
    return RunDirectoryError(f"A file operation in the run directory {run_dir} failed ({what}: {where}); {fix}.")
