"""Low-rank adapters (LoRA, through ``peft``) on the policies, and LoRA adapter folders as ``model.source``.

With ``lora.rank = r > 0`` each policy is the SFT model with adapters ``W + (alpha / r) B A`` on the
``lora.targets`` modules (peft's default for the architecture when empty); only ``A`` and ``B``
train (``B`` starts at 0, so the policy starts at the SFT model). The reference ``mu`` of its
KL term and of Nash-MD-PG's mixture is :class:`AdapterDisabled`: the *same* model run with the
adapters switched off, which is exactly the SFT model, so no second copy of the weights is kept.

``model.source`` may name a LoRA adapter folder (``adapter_config.json``): its base model (a local
directory named by ``base_model_name_or_path``) is loaded and the adapter merged into it.
:func:`save_policy` writes a trained policy as an adapter folder or as a merged Hugging Face model.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nlhf_core.errors import ParameterError
from nlhf_core.llm.config import LoraConfig

ADAPTER_CONFIG = "adapter_config.json"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model")


def _peft() -> Any:
    try:
        import peft
    except ImportError:
        raise ParameterError(
            "LoRA needs the 'peft' package; install it (pip install peft) or set lora.rank = 0."
        ) from None
    return peft


def is_adapter_dir(path: Path) -> bool:
    """Whether ``path`` holds a saved peft adapter."""
    return (path / ADAPTER_CONFIG).is_file()


def adapter_base(path: Path) -> Path:
    """The local base-model directory an adapter folder was trained on (``base_model_name_or_path``)."""
    try:
        base = json.loads((path / ADAPTER_CONFIG).read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError):
        base = None
    candidates = [Path(base).expanduser(), path / base] if isinstance(base, str) and base else []
    for candidate in candidates:
        if (candidate / "config.json").is_file():
            return candidate
    raise ParameterError(
        f"The LoRA adapter in {str(path)!r} names the base model {base!r}, which is not a local Hugging Face model "
        f"directory; set base_model_name_or_path in its {ADAPTER_CONFIG} to the base model's folder."
    )


def tokenizer_dir(path: Path) -> Path:
    """Where the tokenizer of ``model.source`` lies: the folder itself, or an adapter's base model."""
    if is_adapter_dir(path) and not any((path / name).is_file() for name in TOKENIZER_FILES):
        return adapter_base(path)
    return path


def load_adapter_model(path: Path) -> nn.Module:
    """The base model of an adapter folder with the adapter merged in (a plain causal LM)."""
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(adapter_base(path), local_files_only=True)
    return _peft().PeftModel.from_pretrained(base, path).merge_and_unload()


def attach_lora(model: nn.Module, settings: LoraConfig) -> nn.Module:
    """``model`` with fresh LoRA adapters (peft); every other weight is frozen."""
    peft = _peft()
    config = peft.LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(settings.targets) or None,
        task_type="CAUSAL_LM",
    )
    try:
        return peft.get_peft_model(model, config)
    except ValueError as err:
        raise ParameterError(
            f"LoRA could not find the modules to adapt ({err}); name them in lora.targets, e.g. ['c_attn']."
        ) from None


def is_lora(model: nn.Module) -> bool:
    return hasattr(model, "disable_adapter") and hasattr(model, "peft_config")


class AdapterDisabled(nn.Module):
    """The reference ``mu``: the LoRA policy run with its adapters switched off (the same weights, no copy).

    The policy is held outside the module tree, so freezing or moving this view never touches it.
    """

    def __init__(self, policy: nn.Module) -> None:
        super().__init__()
        self._policy: list[Any] = [policy]  # a peft model (its methods are not typed)

    @property
    def policy(self) -> Any:
        return self._policy[0]

    def get_base_model(self) -> nn.Module:
        return self.policy.get_base_model()

    def forward(self, **kwargs: Any) -> Any:
        with self.policy.disable_adapter():
            return self.policy(**kwargs)


def merged_copy(model: nn.Module) -> nn.Module:
    """A LoRA policy's adapters merged into a copy of its weights (a plain causal LM); other models as they are."""
    if not is_lora(model):
        return model
    with torch.no_grad():
        target: Any = copy.deepcopy(model)
        return target.merge_and_unload()


def save_policy(model: nn.Module, folder: Path, *, merged: bool = True) -> Path:
    """Write ``model`` with ``save_pretrained``: a LoRA policy as its adapter folder (``merged=False``) or with
    the adapters merged into a copy of the weights (a plain model ``AutoModelForCausalLM`` loads)."""
    folder.mkdir(parents=True, exist_ok=True)
    target: Any = merged_copy(model) if merged else model
    target.save_pretrained(folder)
    return folder
