"""The infrastructure around the training loops: run directory, metrics log, stop vote, shards, stages.

The loops of :mod:`nlhf_core.llm.trainer` read top to bottom; what every loop needs lives here.

* :class:`Runner` (one per run): the :class:`~nlhf_core.llm.runtime.Runtime` (device, DDP ranks), the
  run directory (locked for the run by rank 0; a fresh run refuses a used directory; a resumed one must
  have the same, unmodified settings, and its torn last metrics line is dropped: :mod:`~nlhf_core.llm.run_directory`),
  :meth:`Runner.log` (``metrics.jsonl``, TensorBoard scalars when installed, and the callback),
  :meth:`Runner.should_stop` (the stop vote: every rank takes part, every step, so all ranks stop at
  the same step), the shards of a step and the time each stage took.
* :class:`Stage` (one per stage): AdamW with a warm-up and schedule, gradient clipping
  (:mod:`nlhf_core.llm.optim`, settings ``[optim]``), the DDP wrapper or FSDP2 sharding
  (``run.parallel``, :mod:`nlhf_core.llm.sharding`; the stage's model is rebuilt whole as ``trained`` at the end),
  resume from the stage's latest checkpoint (weights, optimizer, scheduler, RNG states), the progress
  bar, checkpoints every ``run.checkpoint_every`` steps or when stopped, and the final weights.

Shards: a step's global batch is split into ``run.shards`` shards, each with its own generator;
rank ``r`` of ``W`` computes shards ``r, r + W, ...`` and DDP averages the gradients, so each
shard's loss is scaled by ``W / shards`` and the update is the mean over all shards.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nlhf_core.errors import ParameterError
from nlhf_core.llm.board import Board, open_board
from nlhf_core.llm.checkpoints import latest_checkpoint, load_checkpoint, load_final, write_checkpoint, write_final
from nlhf_core.llm.config import OptimConfig, TrainingConfig, load_config
from nlhf_core.llm.config_text import to_toml
from nlhf_core.llm.optim import build_optimizer, clip_gradients, lr_factor
from nlhf_core.llm.run_directory import (
    METRICS,
    RunDirectoryError,
    RunLock,
    filesystem_error,
    repair_metrics,
    verify_artifact,
    write_artifact,
)
from nlhf_core.llm.runtime import GatheredWeights, Runtime, rng_state, set_rng_state, setup_runtime
from nlhf_core.llm.sharding import (
    gathered_optimizer_state,
    gathered_weights,
    gradient_sync_off,
    load_optimizer_state,
    materialize,
    meta_skeleton,
    shard,
)
from nlhf_core.llm.summary import StageTiming

Callback = Callable[[dict[str, Any]], None]


class Stopped(Exception):
    """The run was asked to stop; every stage's progress is checkpointed and ``--resume`` continues it."""


@dataclass
class Runner:
    """One run's process-level services (see the module docstring)."""

    runtime: Runtime
    run_dir: Path
    checkpoint_every: int
    resume: bool = False
    callback: Callback | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    progress: bool = False
    timing: dict[str, StageTiming] = field(default_factory=dict)
    lock: RunLock | None = None
    optim: OptimConfig = field(default_factory=OptimConfig)
    board: Board = field(default_factory=Board)

    @classmethod
    def open(
        cls,
        config: TrainingConfig,
        run_dir: Path,
        *,
        resume: bool,
        callback: Callback | None,
        stop_event: threading.Event | None,
        progress: bool,
    ) -> Runner:
        """Select the device, join the process group, lock ``run_dir`` and claim it for ``config``.

        Call :meth:`close` when the run ends (it releases the lock).
        """
        runtime = setup_runtime(config.run)
        runner = cls(
            runtime,
            run_dir,
            config.run.checkpoint_every,
            resume,
            callback,
            stop_event or threading.Event(),
            progress,
            lock=_lock(runtime, run_dir),
        )
        runner.optim = config.optim
        try:
            runner._claim_run_dir(config)
        except BaseException:
            runner.close()
            raise
        runner.board = open_board(run_dir, enabled=runner.runtime.main)  # TensorBoard scalars when installed
        return runner

    def close(self) -> None:
        """Flush the TensorBoard writer and release the run directory's lock (idempotent)."""
        self.board.close()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def _claim_run_dir(self, config: TrainingConfig) -> None:
        """Write ``config.toml``; a used directory needs ``resume`` and the same, unmodified settings."""
        stored = self.run_dir / "config.toml"
        if stored.exists():
            if not self.resume:
                raise ParameterError(
                    f"{self.run_dir} already holds a run; pass --resume to continue it or choose a new --out directory."
                )
            verify_artifact(self.run_dir, stored.name, "restore it or start a new --out directory")
            changed = load_config(stored).differences(config)
            if changed:
                raise ParameterError(
                    f"The run in {self.run_dir} was started with different settings ({', '.join(changed)}); resume it "
                    f"with the same config or start a new --out directory."
                )
        self.barrier()  # every rank has looked before rank 0 writes
        if self.runtime.main:
            write_artifact(self.run_dir, stored.name, lambda tmp: tmp.write_text(to_toml(config), encoding="utf-8"))
            repair_metrics(self.run_dir / METRICS)
        self.barrier()

    # ------------------------------------------------------------------ ranks and shards
    def barrier(self) -> None:
        self.runtime.barrier()

    @property
    def local_shards(self) -> list[int]:
        """The shards this rank computes: ``rank, rank + world, ...``."""
        return list(range(self.runtime.rank, self.runtime.shards, self.runtime.world))

    @property
    def shard_loss_scale(self) -> float:
        """Per-shard loss factor: DDP averages over ranks, so ``world / shards`` gives the mean over all shards."""
        return self.runtime.world / self.runtime.shards

    def shards(self, model: nn.Module) -> Iterator[tuple[int, contextlib.AbstractContextManager]]:
        """``(shard, gradient-sync context)`` for each local shard; DDP and FSDP sync only on the last one."""
        local = self.local_shards
        for k, index in enumerate(local):
            off = gradient_sync_off(model) if k < len(local) - 1 else None
            yield index, off if off is not None else contextlib.nullcontext()

    # ------------------------------------------------------------------ records and the stop vote
    def log(self, record: Mapping[str, Any]) -> None:
        """Append ``record`` to ``metrics.jsonl`` and pass it to the callback (rank 0 only)."""
        record = {k: (float(v) if isinstance(v, np.floating | torch.Tensor) else v) for k, v in record.items()}
        if self.runtime.main:
            with open(self.run_dir / METRICS, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            self.board.write(record)
            if self.callback is not None:
                self.callback(record)

    def should_stop(self) -> bool:
        """Whether any rank was asked to stop (an all-reduce: every rank must call it at the same step)."""
        flag = self.stop_event.is_set()
        if self.runtime.distributed:
            vote = torch.tensor([1.0 if flag else 0.0], device=self.runtime.device)
            torch.distributed.all_reduce(vote, op=torch.distributed.ReduceOp.MAX)
            flag = bool(vote.item() > 0)
        return flag

    def stage(
        self,
        name: str,
        module: nn.Module,
        *,
        steps: int,
        lr: float,
        decay: bool = True,
        extras: dict[str, nn.Module] | None = None,
    ) -> Stage:
        """Open stage ``name`` training ``module`` (and saving ``extras`` with it) for ``steps`` steps."""
        return Stage(self, name, module, steps=steps, lr=lr, decay=decay, extras=extras or {})


def _lock(runtime: Runtime, run_dir: Path) -> RunLock | None:
    """Rank 0 locks ``run_dir``; under ``torchrun`` every rank learns its answer, so all go on or all refuse."""
    lock, refusal = None, ""
    if runtime.main:
        try:
            lock = RunLock.acquire(run_dir)
        except RunDirectoryError as err:
            refusal = str(err)
        except OSError as err:
            refusal = str(filesystem_error(err, run_dir))
    if runtime.distributed:
        shared = [refusal]
        torch.distributed.broadcast_object_list(shared, src=0)
        refusal = shared[0]
    if refusal:
        raise RunDirectoryError(refusal)
    return lock


def _on_cpu(weights: GatheredWeights | None) -> GatheredWeights | None:
    if weights is None:
        return None
    return GatheredWeights({k: v.detach().cpu() for k, v in weights.tensors.items()}, weights.metadata)


class Stage:
    """A stage's optimizer, schedule, resume point, checkpoints and progress (see the module docstring).

    ``done`` is the ``done.json`` record when the stage had already finished (its weights are then
    loaded and nothing else is set up); otherwise iterate :meth:`steps` and call :meth:`start_step`,
    :meth:`optimizer_step` and :meth:`end_step` in each, then :meth:`finish`.
    """

    def __init__(
        self,
        runner: Runner,
        name: str,
        module: nn.Module,
        *,
        steps: int,
        lr: float,
        decay: bool,
        extras: dict[str, nn.Module],
    ) -> None:
        self.runner, self.name, self.module, self.total = runner, name, module, steps
        self.folder = runner.run_dir / "checkpoints" / name
        self.modules = {"model": module, **extras}
        self.trained = module  # the model once the stage ends: a plain module rebuilt from the shards under FSDP
        self.done = load_final(self.folder, self.modules)
        if self.done is not None:
            runner.timing[name] = self.done["timing"]
            return
        runtime = runner.runtime
        latest = latest_checkpoint(self.folder) if runner.resume else None
        state = load_checkpoint(latest, self.modules) if latest is not None else None  # before wrapping
        self.model: nn.Module = module
        self.sharded = runtime.distributed and runtime.parallel == "fsdp"
        self.skeleton = meta_skeleton(module) if self.sharded else None
        if self.sharded:
            shard(module, runtime)  # in place: self.model is module
        elif runtime.distributed:
            ids = [runtime.device.index] if runtime.device.type == "cuda" else None
            self.model = nn.parallel.DistributedDataParallel(module, device_ids=ids)
        optim = runner.optim
        self.optimizer = build_optimizer(module, lr, optim)
        self.grad_norm = 0.0

        def schedule(step: int) -> float:  # a plain function: LambdaLR keeps it out of the checkpoint
            return lr_factor(step, steps, optim, decay)

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, schedule)
        self.start = 0
        if state is not None:
            if self.sharded:
                load_optimizer_state(module, self.optimizer, state["optimizer"])
            else:
                self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            set_rng_state(state["rng"])
            self.start = int(state["step"])
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=steps,
            initial=self.start,
            desc=name,
            disable=not (runner.progress and runtime.main),
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
        )
        self.started = time.perf_counter()
        self.last_record: Mapping[str, Any] = {}

    def steps(self) -> range:
        """The step indices still to run (all of them unless resumed)."""
        return range(self.start, self.total)

    def start_step(self) -> float:
        """Training mode and zero gradients; returns this step's learning rate."""
        self.module.train()
        self.optimizer.zero_grad(set_to_none=True)
        return float(self.scheduler.get_last_lr()[0])

    def optimizer_step(self) -> None:
        """Clip the accumulated gradients (``optim.grad_clip``), apply them and advance the schedule."""
        self.grad_norm = clip_gradients(self.module, self.runner.optim.grad_clip)
        self.optimizer.step()
        self.scheduler.step()

    def end_step(self, step: int, record: Mapping[str, Any]) -> None:
        """Log the step, vote on stopping, checkpoint on the cadence (or when stopping) and raise :class:`Stopped`."""
        self.runner.log(record)
        self.runner.board.write({"stage": self.name, "step": step + 1, "grad_norm": self.grad_norm})
        self.last_record = record
        self.bar.update(1)
        self.bar.set_postfix({k: f"{v:.3g}" for k, v in record.items() if k in ("loss", "win_vs_sft", "kl_to_nash")})
        stop = self.runner.should_stop()  # every rank takes part in the vote, every step
        done = step + 1
        if done < self.total and (done % self.runner.checkpoint_every == 0 or stop):
            self._checkpoint(done)
            if stop:
                self.bar.close()
                raise Stopped(f"stopped in stage {self.name!r} after step {done}")

    def _weights(self, gathered: GatheredWeights | None = None) -> dict[str, nn.Module | GatheredWeights]:
        """What the checkpoint writes: the modules, the sharded model's weights gathered (every rank takes part)."""
        if not self.sharded:
            return dict(self.modules)
        return {**self.modules, "model": gathered or gathered_weights(self.model)}

    def _checkpoint(self, step: int) -> None:
        weights = self._weights()
        optimizer = gathered_optimizer_state(self.model, self.optimizer) if self.sharded else None
        if self.runner.runtime.main:
            state = {
                "step": step,
                "optimizer": optimizer if optimizer is not None else self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "rng": rng_state(),
            }
            write_checkpoint(self.folder, step, weights, state)
        self.runner.barrier()

    def finish(self, samples_per_step: int) -> dict[str, Any]:
        """Write the final weights and ``done.json`` (with the stage's timing and last record); return that record."""
        self.bar.close()
        seconds = time.perf_counter() - self.started
        ran = self.total - self.start
        timing: StageTiming = {
            "steps": ran,
            "seconds": seconds,
            "steps_per_s": ran / seconds if seconds > 0 else 0.0,
            "samples_per_s": ran * samples_per_step / seconds if seconds > 0 else 0.0,
        }
        done = {"stage": self.name, "timing": timing, "final": self.last_record}
        gathered = gathered_weights(self.model, everywhere=True) if self.sharded else None
        if gathered is not None and self.skeleton is not None:
            self.trained = materialize(self.skeleton, gathered)
        if self.runner.runtime.main:
            write_final(self.folder, self._weights(_on_cpu(gathered)), done)
        self.runner.barrier()
        self.runner.timing[self.name] = timing
        return done
