"""Trained policies as Hugging Face model directories: ``RUN/models/<policy>/``.

Each directory holds the weights (``model.safetensors``), ``config.json``, ``generation_config.json``
and the tokenizer files, so ``AutoModelForCausalLM.from_pretrained(dir)`` and
``AutoTokenizer.from_pretrained(dir)`` load it, the built-in ``tiny`` model and its word-level
tokenizer included. The config's ``eos_token_id`` and ``pad_token_id`` are the run's, so
``model.generate`` stops where the trainer's sampler stops. A directory is written under a temporary
name and renamed into place, so a killed run never leaves half a model behind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from torch import nn

from nlhf_core.llm.lora import merged_copy
from nlhf_core.llm.models import Codec

MODELS = "models"


def save_model_dir(policy: nn.Module, codec: Codec, folder: Path) -> Path:
    """Write ``policy`` and the tokenizer of ``codec`` as a Hugging Face model directory ``folder``."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    policy = merged_copy(policy)  # a LoRA policy is written as a full model (adapters merged)
    config = getattr(policy, "config", None)
    if config is not None:
        config.eos_token_id, config.pad_token_id = codec.eos_id, codec.pad_id
    generation = getattr(policy, "generation_config", None)
    if generation is not None:
        generation.eos_token_id, generation.pad_token_id = codec.eos_id, codec.pad_id
    from transformers.utils import logging

    quiet = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()  # no "Writing model shards" bar on the command line
    try:
        policy.save_pretrained(tmp)  # type: ignore[operator]
        codec.tokenizer.save_pretrained(tmp)
    finally:
        if quiet:
            logging.enable_progress_bar()
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def save_policies(policies: dict[str, nn.Module], codec: Codec, run_dir: Path) -> dict[str, str]:
    """Every policy of ``policies`` under ``run_dir/models/<name>/``; returns ``{name: relative path}``."""
    out = {}
    for name, policy in policies.items():
        folder = save_model_dir(policy, codec, run_dir / MODELS / name)
        out[name] = str(folder.relative_to(run_dir))
    return out
