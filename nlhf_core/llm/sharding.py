"""FSDP2 (``run.parallel = "fsdp"``): a stage's model sharded over the ``torchrun`` processes, and back.

* :func:`shard`: ``torch.distributed.fsdp.fully_shard`` on every transformer block (the classes the
  Hugging Face models name in ``_no_split_modules``; else the members of each ``nn.ModuleList``), then on
  the root, over a 1-D mesh of the run's device type. Parameters, gradients and AdamW's moments are
  split across the ranks; a forward all-gathers a block's weights just before it runs. Gradients are
  reduce-scattered *averaged* over ranks, as DDP's all-reduce is, so the shard loss scale is the same.
* :func:`gradient_sync_off`: the micro-batches and shards before a step's last backward skip the
  gradient reduction (``set_requires_gradient_sync(False)``; DDP: ``no_sync``).
* Checkpoints keep their format: :func:`gathered_weights` gathers the full state dict
  (``get_model_state_dict(full_state_dict=True, cpu_offload=True)``: every rank takes part, rank 0
  receives it) with tied weights written once, as ``safetensors.torch.save_model`` writes them; and
  :func:`gathered_optimizer_state` turns the full optimizer state (keyed by parameter names) into
  ``torch.optim.Optimizer.state_dict()``'s numbering. :func:`load_optimizer_state` does the reverse.
* :func:`meta_skeleton` / :func:`materialize`: when a stage ends, its model is rebuilt as a plain
  module from the gathered weights (a copy of the module made with meta tensors before sharding, so
  no second copy of the weights is held), for evaluation, the next stage's start and saving.
* Every forward of a sharded model is a collective: the ranks must run the same number of them.
  :func:`all_finished` lets sampling stop only when every rank's rows are done.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from nlhf_core.llm.runtime import GatheredWeights, Runtime


def _fsdp() -> Any:
    from torch.distributed import fsdp

    return fsdp


def is_sharded(model: nn.Module) -> bool:
    """Whether ``model`` was sharded by :func:`shard` (``fully_shard`` makes it an ``FSDPModule``)."""
    return isinstance(model, _fsdp().FSDPModule)


def blocks(model: nn.Module) -> list[nn.Module]:
    """The transformer blocks of ``model``: modules of a class a Hugging Face model keeps whole
    (``_no_split_modules``), else the members of every ``nn.ModuleList``."""
    names: set[str] = set()
    for module in model.modules():
        names.update(getattr(module, "_no_split_modules", None) or [])
    found = [m for m in model.modules() if type(m).__name__ in names]
    if found:
        return found
    return [m for lst in model.modules() if isinstance(lst, nn.ModuleList) for m in lst]


def shard(model: nn.Module, runtime: Runtime) -> None:
    """``fully_shard`` each block of ``model``, then ``model`` itself (in place), over all ranks."""
    from torch.distributed.device_mesh import init_device_mesh

    mesh = init_device_mesh(runtime.device.type, (runtime.world,))
    fully_shard = _fsdp().fully_shard
    for block in blocks(model):
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)


class _SyncOff:
    """``set_requires_gradient_sync(False)`` while inside, ``True`` again on exit."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __enter__(self) -> None:
        self.model.set_requires_gradient_sync(False)

    def __exit__(self, *exc: object) -> None:
        self.model.set_requires_gradient_sync(True)


def gradient_sync_off(model: nn.Module) -> Any:
    """A context in which backward accumulates gradients without reducing them across ranks
    (DDP's ``no_sync``, FSDP's ``set_requires_gradient_sync(False)``), or None for a single process."""
    if isinstance(model, nn.parallel.DistributedDataParallel):
        return model.no_sync()
    if is_sharded(model):
        return _SyncOff(model)
    return None


def _options(*, everywhere: bool) -> Any:
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, cpu_offload=not everywhere)


def _tied_names(model: nn.Module) -> dict[str, str]:
    """``{dropped name: kept name}`` for weights shared by several names (kept: the first sorted, as
    ``safetensors.torch.save_model`` chooses)."""
    groups: dict[int, list[str]] = {}
    for name, tensor in model.state_dict(keep_vars=True).items():
        groups.setdefault(id(tensor), []).append(name)
    tied = {}
    for names in groups.values():
        keep, *others = sorted(names)
        tied.update(dict.fromkeys(others, keep))
    return tied


def gathered_weights(model: nn.Module, *, everywhere: bool = False) -> GatheredWeights:
    """The full weights of a sharded ``model`` (every rank must call it); on CPU for rank 0 only, or on the
    model's device for every rank with ``everywhere``. Tied weights are kept once (see :func:`_tied_names`)."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict

    full: dict[str, Any] = get_model_state_dict(model, options=_options(everywhere=everywhere))
    tied = _tied_names(model)
    tensors = {k: v.contiguous() for k, v in full.items() if k not in tied}
    return GatheredWeights(tensors, tied if tensors else {})


def _trainable_names(model: nn.Module) -> list[str]:
    """Names of the optimizer's parameters, in its order (``optim.trainable``: ``parameters()`` with grad)."""
    return [name for name, p in model.named_parameters() if p.requires_grad]


def gathered_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """The full optimizer state of a sharded ``model`` in ``optimizer.state_dict()``'s format (parameters
    numbered in order), on CPU at rank 0 (empty elsewhere); every rank must call it."""
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

    full: dict[str, Any] = get_optimizer_state_dict(model, optimizer, options=_options(everywhere=False))
    if not full:
        return {}
    index = {name: i for i, name in enumerate(_trainable_names(model))}
    groups = [{**group, "params": [index[name] for name in group["params"]]} for group in full["param_groups"]]
    return {"state": {index[name]: value for name, value in full["state"].items()}, "param_groups": groups}


def load_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    """Load a checkpoint's ``optimizer.state_dict()``-format state into the optimizer of a sharded ``model``
    (every rank passes the full state it read; each keeps its shard)."""
    from torch.distributed.checkpoint.state_dict import set_optimizer_state_dict

    names = _trainable_names(model)
    groups = [{**group, "params": [names[i] for i in group["params"]]} for group in state["param_groups"]]
    full: Any = {"state": {names[int(i)]: value for i, value in state["state"].items()}, "param_groups": groups}
    set_optimizer_state_dict(model, optimizer, full, options=_options(everywhere=True))


def meta_skeleton(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose parameters are meta tensors (no memory; ties kept), buffers copied."""
    memo: dict[int, Any] = {
        id(p): nn.Parameter(torch.empty_like(p, device="meta"), requires_grad=p.requires_grad)
        for p in model.parameters()
    }
    return copy.deepcopy(model, memo)


def materialize(skeleton: nn.Module, weights: GatheredWeights) -> nn.Module:
    """``skeleton`` with its meta parameters replaced by the gathered full weights (tied ones stay tied)."""
    full = {**weights.tensors, **{dropped: weights.tensors[kept] for dropped, kept in weights.metadata.items()}}
    real = {
        id(p): nn.Parameter(full[name].detach(), requires_grad=p.requires_grad)
        for name, p in skeleton.named_parameters()
    }
    for module in skeleton.modules():
        for key, param in list(module._parameters.items()):
            if param is not None and id(param) in real:
                module._parameters[key] = real[id(param)]
    return skeleton


def all_finished(finished: torch.Tensor, sharded: bool) -> bool:
    """Whether sampling may stop: this rank's rows are all finished, and under FSDP every rank's are."""
    local = bool(finished.all())
    if not sharded:
        return local
    vote = torch.tensor([0.0 if local else 1.0], device=finished.device)
    torch.distributed.all_reduce(vote, op=torch.distributed.ReduceOp.MAX)
    return bool(vote.item() == 0)
