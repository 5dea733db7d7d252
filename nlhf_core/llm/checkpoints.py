"""Checkpoints that survive ``kill -9``: complete or absent, never half-written, and verified on load.

A stage directory holds either its final weights (``<name>.safetensors`` files and ``done.json``,
written last, with the SHA-256 of every file and of its own content) or intermediate checkpoints
``step-NNNNNNN/`` (weights, ``state.pt`` with optimizer, scheduler and RNG states, and ``manifest.json``
with checksums). A checkpoint is written into ``step-NNNNNNN.tmp/``, flushed to disk, then renamed in
one atomic step; a process killed at any moment leaves either the previous checkpoint or the new one
(the run directory's lock keeps a second process from writing the same ``.tmp`` folder). Loading checks
every checksum first, so a truncated or modified file raises :class:`CheckpointError` (one sentence,
naming the file and a fix that exists: the kept checkpoint to fall back to, or training the stage again)
instead of loading garbage. ``state.pt`` is read with ``weights_only=True`` (no arbitrary pickle).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from nlhf_core.errors import NLHFError
from nlhf_core.files import sha256
from nlhf_core.llm.runtime import GatheredWeights, load_state, load_weights, save_state, save_weights

MANIFEST = "manifest.json"
DONE = "done.json"

#: What a checkpoint writes: each name's module, or the gathered weights of a sharded one.
Weights = Mapping[str, nn.Module | GatheredWeights]


class CheckpointError(NLHFError):
    """A checkpoint file is damaged, truncated or was modified."""


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fallback(folder: Path) -> str:
    """What to delete so that a resume gets past the damaged checkpoint ``folder`` (only what exists is named)."""
    if folder.name.startswith("step-"):
        kept = [p for p in complete_checkpoints(folder.parent) if p != folder]
        if kept:
            return f"delete the folder {folder} to resume from the kept checkpoint {kept[-1]}"
        stage = folder.parent.name
    else:
        stage = folder.name
    return f"delete the folder {folder} to train the stage '{stage}' again from its first step"


def _damaged(path: Path, why: str) -> CheckpointError:
    return CheckpointError(
        f"The checkpoint file {path} is {why}; {_fallback(path.parent)}, or start a new run in another directory."
    )


def _verify(folder: Path, checksums: dict[str, str]) -> None:
    for name, expected in checksums.items():
        path = folder / name
        if not path.is_file():
            raise _damaged(path, "missing")
        if sha256(path) != expected:
            raise _damaged(path, "damaged (its checksum does not match: truncated or modified)")


def _content_checksum(record: dict[str, Any]) -> str:
    """SHA-256 of a JSON record's canonical text (keys sorted), stored in the record as ``checksum``."""
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode("utf-8")).hexdigest()


def _load_modules(folder: Path, modules: dict[str, nn.Module]) -> None:
    for name, module in modules.items():
        path = folder / f"{name}.safetensors"
        try:
            load_weights(module, path)
        except Exception as err:  # safetensors raises its own error types for bad headers and shapes
            raise _damaged(path, f"unreadable ({type(err).__name__})") from None


def write_checkpoint(stage_dir: Path, step: int, modules: Weights, state: dict[str, Any]) -> Path:
    """Write ``step-NNNNNNN/`` atomically and remove older checkpoints of the stage (modules, or the
    gathered weights of a sharded one: the same files)."""
    final = stage_dir / f"step-{step:07d}"
    tmp = stage_dir / f"step-{step:07d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, module in modules.items():
        save_weights(module, tmp / f"{name}.safetensors")
    save_state(state, tmp / "state.pt")
    checksums = {p.name: sha256(p) for p in sorted(tmp.iterdir())}
    (tmp / MANIFEST).write_text(json.dumps({"step": step, "files": checksums}), encoding="utf-8")
    for path in tmp.iterdir():
        _fsync(path)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    _fsync(stage_dir)
    for old in stage_dir.glob("step-*"):
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def complete_checkpoints(stage_dir: Path) -> list[Path]:
    """The stage's complete intermediate checkpoints, oldest first (``*.tmp`` leftovers of a killed write are not)."""
    return sorted(p for p in stage_dir.glob("step-*") if p.is_dir() and not p.name.endswith(".tmp"))


def latest_checkpoint(stage_dir: Path) -> Path | None:
    """The newest complete intermediate checkpoint, or None."""
    done = complete_checkpoints(stage_dir)
    return done[-1] if done else None


def load_checkpoint(folder: Path, modules: dict[str, nn.Module]) -> dict[str, Any]:
    """Verify and load an intermediate checkpoint into ``modules``; return its training state."""
    manifest = folder / MANIFEST
    try:
        checksums = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise _damaged(manifest, "missing or unreadable") from None
    _verify(folder, checksums)
    _load_modules(folder, modules)
    try:
        return load_state(folder / "state.pt")
    except Exception as err:  # torch raises several types for bad pickles
        raise _damaged(folder / "state.pt", f"unreadable ({type(err).__name__})") from None


def write_final(stage_dir: Path, modules: Weights, done: dict[str, Any]) -> None:
    """Final weights of a finished stage, then ``done.json`` (with their checksums) last; drop step checkpoints."""
    stage_dir.mkdir(parents=True, exist_ok=True)
    checksums = {}
    for name, module in modules.items():
        path = stage_dir / f"{name}.safetensors"
        save_weights(module, path)
        _fsync(path)
        checksums[path.name] = sha256(path)
    record = {**done, "files": checksums}
    tmp = stage_dir / (DONE + ".tmp")
    tmp.write_text(json.dumps({**record, "checksum": _content_checksum(record)}), encoding="utf-8")
    _fsync(tmp)
    os.replace(tmp, stage_dir / DONE)
    _fsync(stage_dir)
    for old in stage_dir.glob("step-*"):
        shutil.rmtree(old, ignore_errors=True)


def load_final(stage_dir: Path, modules: dict[str, nn.Module]) -> dict[str, Any] | None:
    """The ``done.json`` record of a finished stage with its weights loaded and verified, or None if not finished."""
    path = stage_dir / DONE
    if not path.exists():
        return None
    try:
        done = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise _damaged(path, "unreadable") from None
    if not isinstance(done, dict) or not isinstance(done.get("files"), dict):
        raise _damaged(path, "not a record of finished weights")
    checksum = done.pop("checksum", None)
    if checksum != _content_checksum(done):
        raise _damaged(path, "modified (its own checksum does not match)")
    _verify(stage_dir, done["files"])
    _load_modules(stage_dir, modules)
    return {k: v for k, v in done.items() if k != "files"}
