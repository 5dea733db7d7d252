"""Atomic file writes: a reader (or a process killed mid-write) sees the old file or the new one, never half.

Each write goes to ``NAME.tmp`` next to the target, then ``os.replace`` swaps it in (atomic on POSIX
and Windows within one file system). :func:`sha256` is the checksum every stored artifact is verified with.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, creating the parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON indented by 2 (keys in insertion order) and a final newline, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as 64 hexadecimal digits (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
