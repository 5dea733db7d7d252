"""Optimizer, learning-rate schedule, gradient clipping, micro-batches and train/sample modes of every stage.

* :func:`build_optimizer`: AdamW over the *trainable* parameters only (with LoRA: the adapters),
  with ``optim.betas`` and ``optim.weight_decay``.
* :func:`lr_factor`: the multiplier of the stage's learning rate at a step: a linear warm-up over
  ``optim.warmup_steps`` steps, then ``constant``, ``linear`` (to 0 at the last step) or
  ``cosine`` (``(1 + cos(pi s / S)) / 2``); ``default`` is linear for SFT and the judges and
  constant for the policies (what the trainer always did).
* :func:`clip_gradients`: the global gradient norm clipped to ``optim.grad_clip`` (after DDP's
  all-reduce, so every rank clips the same averaged gradient).
* :func:`micro_batches`: a shard's rows in slices of ``compute.micro_batch_size``; each slice's
  mean loss is weighted by its share of the rows, so the accumulated gradient is the gradient of
  the mean loss over the whole shard (DDP and FSDP synchronize only on the last backward).
* :func:`sampling_mode` / :func:`training_mode`: dropout is never on while sampling or scoring;
  in the gradient step it is the model's own (``compute.dropout = "as-configured"``) or off.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
from torch import nn

from nlhf_core.llm.config import ComputeConfig, OptimConfig
from nlhf_core.llm.sharding import gradient_sync_off, is_sharded


def trainable(module: nn.Module) -> list[nn.Parameter]:
    """The parameters that receive gradients (all of them, or only the adapters under LoRA)."""
    return [p for p in module.parameters() if p.requires_grad]


def build_optimizer(module: nn.Module, lr: float, optim: OptimConfig) -> torch.optim.AdamW:
    """AdamW over the trainable parameters of ``module`` with the configured betas and weight decay."""
    beta1, beta2 = optim.betas
    return torch.optim.AdamW(trainable(module), lr=lr, betas=(beta1, beta2), weight_decay=optim.weight_decay)


def lr_factor(step: int, steps: int, optim: OptimConfig, decay: bool) -> float:
    """Learning-rate multiplier at ``step`` (0-based) of a ``steps``-step stage (see the module docstring)."""
    warm = min(1.0, (step + 1) / optim.warmup_steps) if optim.warmup_steps else 1.0
    schedule = optim.schedule
    if schedule == "default":
        schedule = "linear" if decay else "constant"
    progress = step / max(1, steps)
    if schedule == "linear":
        return warm * max(0.0, 1.0 - progress)
    if schedule == "cosine":
        return warm * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return warm


def clip_gradients(module: nn.Module, max_norm: float) -> float:
    """Clip the global L2 norm of the gradients to ``max_norm`` (0: no clipping); returns the norm before."""
    params = [p for p in trainable(module) if p.grad is not None]
    if not params:
        return 0.0
    if is_sharded(module):  # sharded gradients: torch's clipping sums the shards' squares across ranks
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm if max_norm > 0 else math.inf)
        return float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)
    if max_norm > 0:
        return float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params])))


def micro_batches(
    rows: int, size: int, model: nn.Module, sync: contextlib.AbstractContextManager
) -> Iterator[tuple[slice, float, contextlib.AbstractContextManager]]:
    """``(rows slice, weight, gradient-sync context)`` per micro-batch of at most ``size`` rows (0: one).

    ``weight = len(slice) / rows``: a micro-batch's mean loss times its weight, summed over the
    micro-batches, is the mean loss over all rows, so the accumulated gradient equals one batch's.
    Only the last micro-batch runs in ``sync`` (the shard's context); the others skip DDP's all-reduce
    (FSDP's reduce-scatter).
    """
    size = size or rows
    starts = list(range(0, rows, size))
    for k, start in enumerate(starts):
        end = min(rows, start + size)
        last = k == len(starts) - 1
        off = None if last else gradient_sync_off(model)
        context = sync if last else (off or contextlib.nullcontext())
        yield slice(start, end), (end - start) / rows, context


def sampling_mode(model: nn.Module) -> None:
    """Evaluation mode (no dropout) for sampling and scoring."""
    model.eval()


def training_mode(model: nn.Module, compute: ComputeConfig) -> None:
    """Training mode for the gradient step; with ``compute.dropout = "off"`` every module stays in
    evaluation mode except the layers that checkpoint (they check ``training`` to recompute activations)."""
    if compute.dropout == "as-configured":
        model.train()
        return
    model.eval()
    for module in model.modules():
        if getattr(module, "gradient_checkpointing", False) is True:
            module.training = True


def enable_gradient_checkpointing(model: nn.Module) -> None:
    """Hugging Face gradient (activation) checkpointing, non-reentrant so frozen inputs and adapters work."""
    kwargs = {"use_reentrant": False}
    enable = getattr(model, "activation_checkpointing_enable", None)  # transformers >= 5.2x
    if callable(enable):
        enable(activation_checkpointing_kwargs=kwargs)
        return
    enable = getattr(model, "gradient_checkpointing_enable", None)
    if callable(enable):
        enable(gradient_checkpointing_kwargs=kwargs)
