"""Checkpoints that survive ``kill -9``: complete or absent, never half-written, and verified on load.

A stage directory holds either its final weights (``<name>.safetensors`` files and ``done.json``,
written last, with the SHA-256 of every file) or intermediate checkpoints ``step-NNNNNNN/`` (weights,
``state.pt`` with optimizer, scheduler and RNG states, and ``manifest.json`` with checksums). A
checkpoint is written into ``step-NNNNNNN.tmp/``, flushed to disk, then renamed in one atomic step;
a process killed at any moment leaves either the previous checkpoint or the new one. Loading checks
every checksum first, so a truncated or modified file raises :class:`CheckpointError` (one sentence,
naming the file and the fix) instead of loading garbage. ``state.pt`` is read with
``weights_only=True`` (no arbitrary pickle).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from torch import nn

from nlhf_core.errors import NLHFError
from nlhf_core.llm.runtime import load_state, load_weights, save_state, save_weights

MANIFEST = "manifest.json"
DONE = "done.json"


class CheckpointError(NLHFError):
    """A checkpoint file is damaged, truncated or was modified."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _damaged(path: Path, why: str) -> CheckpointError:
    return CheckpointError(
        f"The checkpoint file {path} is {why}; delete the folder {path.parent} to resume from the checkpoint "
        f"before it, or start a new run in another directory."
    )


def _verify(folder: Path, checksums: dict[str, str]) -> None:
    for name, expected in checksums.items():
        path = folder / name
        if not path.is_file():
            raise _damaged(path, "missing")
        if sha256(path) != expected:
            raise _damaged(path, "damaged (its checksum does not match: truncated or modified)")


def _load_modules(folder: Path, modules: dict[str, nn.Module]) -> None:
    for name, module in modules.items():
        path = folder / f"{name}.safetensors"
        try:
            load_weights(module, path)
        except Exception as err:  # safetensors raises its own error types for bad headers and shapes
            raise _damaged(path, f"unreadable ({type(err).__name__})") from None


def write_checkpoint(stage_dir: Path, step: int, modules: dict[str, nn.Module], state: dict[str, Any]) -> Path:
    """Write ``step-NNNNNNN/`` atomically and remove older checkpoints of the stage."""
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


def latest_checkpoint(stage_dir: Path) -> Path | None:
    """The newest complete intermediate checkpoint (``*.tmp`` leftovers of a killed write are ignored)."""
    done = sorted(p for p in stage_dir.glob("step-*") if p.is_dir() and not p.name.endswith(".tmp"))
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


def write_final(stage_dir: Path, modules: dict[str, nn.Module], done: dict[str, Any]) -> None:
    """Final weights of a finished stage, then ``done.json`` (with their checksums) last; drop step checkpoints."""
    stage_dir.mkdir(parents=True, exist_ok=True)
    checksums = {}
    for name, module in modules.items():
        path = stage_dir / f"{name}.safetensors"
        save_weights(module, path)
        _fsync(path)
        checksums[path.name] = sha256(path)
    tmp = stage_dir / (DONE + ".tmp")
    tmp.write_text(json.dumps({**done, "files": checksums}), encoding="utf-8")
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
    _verify(stage_dir, done.get("files", {}))
    _load_modules(stage_dir, modules)
    return {k: v for k, v in done.items() if k != "files"}
