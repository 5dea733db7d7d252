"""The settings of training as practitioners run it: sampling law, optimizer and schedule, compute, LoRA.

Sections ``[sampling]``, ``[optim]``, ``[compute]`` and ``[lora]`` of
:class:`~nlhf_core.llm.config.TrainingConfig`, declared like every section (default, help,
constraint; :mod:`nlhf_core.llm.settings`). Their defaults reproduce the trainer's earlier
behaviour except ``optim.grad_clip`` (1.0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nlhf_core.llm.settings import Interval, Options, Section, setting

POSITIVE = Interval(0, None, closed="neither")
NON_NEGATIVE = Interval(0, None)

SCHEDULES = ("default", "constant", "linear", "cosine")
DROPOUT_MODES = ("as-configured", "off")


def betas_pair(value: list) -> bool:
    return len(value) == 2 and all(isinstance(b, int | float) and 0 <= b < 1 for b in value)


def nonempty_strings(value: list) -> bool:
    return all(isinstance(t, str) and t for t in value)


@dataclass(frozen=True)
class SamplingConfig(Section):
    """How the policies sample their responses while training (the log-probs of the loss use the same law)."""

    SECTION: ClassVar[str] = "sampling"
    temperature: float = setting(1.0, "sampling temperature of the policies (their log-probs use it too)", POSITIVE)
    top_k: int = setting(0, "keep only the k most likely tokens at each step (0: all)", NON_NEGATIVE)
    top_p: float = setting(
        1.0, "nucleus sampling: keep the most likely tokens up to this probability mass (1: all)",
        Interval(0, 1, closed="right"), "in (0, 1]",
    )  # fmt: skip
    stop: list[str] = setting(  # noqa: RUF009 (a dataclasses.field with a default_factory)
        [],
        "stop strings: a response ends after the token that completes one of them",
        nonempty_strings,
        "a list of non-empty strings",
    )
    missing_eos_penalty: float = setting(
        0.0, "subtracted from the training signal of a response that ends without EOS or a stop string", NON_NEGATIVE
    )


@dataclass(frozen=True)
class OptimConfig(Section):
    """AdamW and its learning-rate schedule, shared by every stage (each stage keeps its own ``lr``)."""

    SECTION: ClassVar[str] = "optim"
    betas: list[float] = setting(  # noqa: RUF009 (a dataclasses.field with a default_factory)
        [0.9, 0.999], "AdamW betas", betas_pair, "two numbers in [0, 1)"
    )
    weight_decay: float = setting(0.0, "AdamW decoupled weight decay", NON_NEGATIVE)
    warmup_steps: int = setting(10, "steps of linear learning-rate warm-up at the start of every stage", NON_NEGATIVE)
    schedule: str = setting(
        "default",
        "learning rate after warm-up: default (linear decay for SFT and the judges, constant for the "
        "policies), constant, linear or cosine (to 0 at the last step)",
        Options(SCHEDULES),
        "one of " + ", ".join(SCHEDULES),
    )
    grad_clip: float = setting(1.0, "clip the global gradient norm to this value (0: off)", NON_NEGATIVE)


@dataclass(frozen=True)
class ComputeConfig(Section):
    """Memory and speed: micro-batches, gradient checkpointing, dropout in the gradient step."""

    SECTION: ClassVar[str] = "compute"
    generation_batch_size: int = setting(
        0, "prompts sampled and judged together in a policy step (0: the whole shard)", NON_NEGATIVE
    )
    micro_batch_size: int = setting(
        0, "rows per forward/backward pass; gradients are accumulated (0: the whole shard)", NON_NEGATIVE
    )
    gradient_checkpointing: bool = setting(False, "recompute activations in the backward pass (less memory)")
    dropout: str = setting(
        "as-configured",
        "dropout in the gradient step: as-configured (the model's own) or off; sampling and scoring never use it",
        Options(DROPOUT_MODES),
        "one of " + ", ".join(DROPOUT_MODES),
    )


@dataclass(frozen=True)
class LoraConfig(Section):
    """Low-rank adapters (``peft``) on the policies; the reference is the same model with adapters disabled."""

    SECTION: ClassVar[str] = "lora"
    rank: int = setting(0, "LoRA rank r of the policy adapters (0: train every weight)", NON_NEGATIVE)
    alpha: float = setting(16.0, "LoRA scaling alpha (the update is alpha / r * B A)", POSITIVE)
    dropout: float = setting(0.0, "dropout on the adapters' input", Interval(0, 1, closed="left"), "in [0, 1)")
    targets: list[str] = setting(  # noqa: RUF009 (a dataclasses.field with a default_factory)
        [], "module names that get adapters (empty: peft's default for the architecture)", nonempty_strings
    )
