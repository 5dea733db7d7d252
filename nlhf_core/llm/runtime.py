"""Devices, precision, threads, distributed setup, seeded generators and safe checkpoint files.

* Device: ``auto`` picks CUDA, then MPS, then CPU; under ``torchrun`` each rank takes
  ``cuda:LOCAL_RANK``. bf16 autocast is used on GPU (``precision = auto`` or ``bf16``).
* Distributed: when ``WORLD_SIZE > 1`` (set by ``torchrun``) the process group is initialized with
  NCCL on CUDA and gloo otherwise; models train under ``DistributedDataParallel`` (``run.parallel = "ddp"``)
  or sharded by FSDP2 (``"fsdp"``, :mod:`nlhf_core.llm.sharding`).
* Randomness: every draw of a step comes from a ``torch.Generator`` seeded by
  ``hash(seed, stage, step, shard)``, so a step's samples do not depend on how many steps ran in this
  process (exact resume) nor on which rank handles the shard (DDP = one process, same global batch).
* Files: weights are written with safetensors, training state with ``torch.save`` and read back
  with ``weights_only=True`` (no pickle of arbitrary objects); every write is atomic (temp file +
  ``os.replace``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nlhf_core.errors import ParameterError
from nlhf_core.llm.config import RunConfig


@dataclass
class Runtime:
    """Where and how this process computes."""

    device: torch.device
    amp: bool
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    shards: int = 1
    parallel: str = "ddp"

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp:
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def barrier(self) -> None:
        if self.distributed:
            torch.distributed.barrier()


def setup_runtime(run: RunConfig) -> Runtime:
    """Select the device, cap threads and join the process group when launched by ``torchrun``."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    want = run.device
    if want == "auto":
        if torch.cuda.is_available():
            want = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            want = "mps"
        else:
            want = "cpu"
    if want == "cuda" and not torch.cuda.is_available():
        raise ParameterError("run.device is 'cuda' but no CUDA GPU is visible; use run.device = 'auto' or 'cpu'.")
    if want == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ParameterError("run.device is 'mps' but MPS is not available; use run.device = 'auto' or 'cpu'.")
    device = torch.device(f"cuda:{local_rank}" if want == "cuda" else want)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = run.threads or max(1, cores // world)
    torch.set_num_threads(threads)
    precision = run.precision
    amp = device.type == "cuda" and precision in ("auto", "bf16")
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        torch.distributed.init_process_group(backend=backend)
    shards = run.shards or world
    if shards % world:
        raise ParameterError(
            f"run.shards = {shards} is not a multiple of the {world} processes; set run.shards to a "
            f"multiple of --nproc_per_node times the nodes (or 0 for one shard per process)."
        )
    return Runtime(
        device=device, amp=amp, rank=rank, world=world, local_rank=local_rank, shards=shards, parallel=run.parallel
    )


def derived_seed(*parts: Any) -> int:
    """A 63-bit seed from any parts (stable across processes and Python versions)."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


def init_seed(seed: int, what: str) -> int:
    """Seed of a model's initialization ``what`` (the same on every rank)."""
    return derived_seed(seed, what) % (1 << 62)


def generator(*parts: Any) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded by :func:`derived_seed`."""
    return torch.Generator(device="cpu").manual_seed(derived_seed(*parts))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch global RNG states as tensors/ints (loadable with ``weights_only=True``)."""
    py = random.getstate()
    np_state = np.random.get_state()
    assert isinstance(np_state, tuple)  # the legacy ("MT19937", keys, pos, has_gauss, cached) form
    state = {
        "python_version": py[0],
        "python_state": torch.tensor(py[1], dtype=torch.int64),
        "numpy_keys": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate((state["python_version"], tuple(int(v) for v in state["python_state"].tolist()), None))
    keys = state["numpy_keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, state["numpy_pos"], 0, 0.0))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


@dataclass
class GatheredWeights:
    """A sharded model's full weights (``tensors``), tied ones once; ``metadata`` maps each dropped tied
    name to the kept one, as ``safetensors.torch.save_model`` records them."""

    tensors: dict[str, torch.Tensor]
    metadata: dict[str, str]


def save_weights(model: nn.Module | GatheredWeights, path: Path) -> None:
    """Weights as safetensors (shared tensors such as tied embeddings handled by ``save_model``; gathered
    weights of a sharded model are written in the same form)."""
    from safetensors.torch import save_file, save_model

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        if isinstance(model, GatheredWeights):
            save_file(model.tensors, str(tmp), metadata=model.metadata or None)
        else:
            save_model(unwrap(model), str(tmp))
    except Exception as err:  # safetensors reports a failed write (disk full, read-only) as its own error type
        raise as_os_error(err, tmp) from None
    os.replace(tmp, path)


def load_weights(model: nn.Module, path: Path) -> None:
    from safetensors.torch import load_model

    load_model(unwrap(model), str(path), device=str(next(unwrap(model).parameters()).device))


def save_state(state: dict[str, Any], path: Path) -> None:
    """Training state with ``torch.save``, serialized in memory first so a failed write raises an ``OSError``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    buffer = io.BytesIO()
    torch.save(state, buffer)
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)


def as_os_error(err: Exception, path: Path) -> Exception:
    """A library's I/O failure (``... (os error 28)``, as safetensors words it) as the ``OSError`` it wraps."""
    found = re.search(r"os error (\d+)", str(err))
    if found is None:
        return err
    code = int(found.group(1))
    return OSError(code, os.strerror(code), str(path))


def load_state(path: Path) -> dict[str, Any]:
    """Training state written by :func:`save_state`, read with ``weights_only=True`` (no arbitrary pickle)."""
    return torch.load(path, map_location="cpu", weights_only=True)
