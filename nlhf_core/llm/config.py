"""One configuration for the whole language-model pipeline: typed sections, built-in configs, overrides, TOML.

A :class:`TrainingConfig` holds one frozen dataclass per TOML table (``[run]``, ``[task]``, ...).
Every field declares its default, type, constraint and help (:mod:`nlhf_core.llm.settings`);
building a section validates it, so a config object is always valid. An unknown key or a value
out of range raises :class:`~nlhf_core.errors.ParameterError` with one sentence naming the key
and the fix. Built-in configurations are selected by name (``default``, ``smoke``); a path to a
``.toml`` file is read and laid over the defaults. ``--set section.key=value`` overrides (values
are parsed as TOML literals, falling back to plain strings) are applied last.
"""

from __future__ import annotations

import copy
import math
import tomllib
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from nlhf_core.errors import ParameterError
from nlhf_core.llm.data_settings import DataConfig, DatasetConfig
from nlhf_core.llm.settings import Interval, Options, Section, field_specs, setting
from nlhf_core.llm.training_settings import ComputeConfig, LoraConfig, OptimConfig, SamplingConfig

#: Policy-optimization methods, in the order they are trained (the keys of :data:`nlhf_core.llm.methods.METHODS`).
METHODS = ("rlhf", "self-play", "nash-md-pg", "nash-ema-pg")
DEVICES = ("auto", "cpu", "cuda", "mps")
PARALLEL = ("ddp", "fsdp")
PRECISIONS = ("auto", "fp32", "bf16")

POSITIVE = Interval(0, None, closed="neither")
NON_NEGATIVE = Interval(0, None)
UNIT = Interval(0.0, 1.0)
KL_STRENGTH = Interval(1e-3, 100)


def _method_list(value: list) -> bool:
    return len(value) > 0 and all(isinstance(m, str) and m in METHODS for m in value) and len(set(value)) == len(value)


def _answer_weights(value: str | list) -> bool:
    if isinstance(value, str):
        return value in ("skewed", "uniform")
    return len(value) > 0 and all(isinstance(w, int | float) and w > 0 and math.isfinite(w) for w in value)


def _words(value: list) -> bool:
    return len(value) > 0 and all(isinstance(h, str) for h in value)


def _has_words(value: str) -> bool:
    return bool(value.split())


@dataclass(frozen=True)
class RunConfig(Section):
    SECTION: ClassVar[str] = "run"
    seed: int = setting(0, "master seed of every random draw", NON_NEGATIVE, "a non-negative integer")
    device: str = setting("auto", "auto, cpu, cuda or mps", Options(DEVICES), "one of " + ", ".join(DEVICES))
    precision: str = setting("auto", "auto (bf16 autocast on GPU), fp32 or bf16", Options(PRECISIONS))
    threads: int = setting(
        1,
        "torch CPU threads per process (0: the cores available; 1 is fastest for the "
        "tiny models, whose matrices are too small to split)",
        NON_NEGATIVE,
        ">= 0",
    )
    shards: int = setting(0, "data shards per step, split across DDP ranks (0: one per process)", NON_NEGATIVE, ">= 0")
    parallel: str = setting(
        "ddp",
        "under torchrun: ddp (a full copy per process) or fsdp (FSDP2: weights, gradients and optimizer sharded)",
        Options(PARALLEL),
        "ddp or fsdp",
    )
    checkpoint_every: int = setting(50, "steps between checkpoints of a stage", POSITIVE, "a positive integer")


@dataclass(frozen=True)
class TaskConfig(Section):
    SECTION: ClassVar[str] = "task"
    game: str = setting("preset:two-prompts", "true preferences: preset:NAME or a .json/.csv game file")
    prompt: str = setting("answer me", "the prompt of a game without contexts", _has_words)
    hedges: list[str] = setting(  # noqa: RUF009 (setting() returns a dataclasses.field with a default_factory)
        ["maybe", "surely"], "first words of the answers: answer i is 'hedges[i % len] label'", _words
    )
    max_new_tokens: int = setting(4, "longest sampled response, in tokens", POSITIVE)


@dataclass(frozen=True)
class ModelConfig(Section):
    SECTION: ClassVar[str] = "model"
    source: str = setting("tiny", "'tiny' (built from this config) or a local Hugging Face model directory")
    n_layer: int = setting(2, "layers of the tiny GPT-2", POSITIVE)
    n_head: int = setting(2, "attention heads of the tiny GPT-2", POSITIVE)
    n_embd: int = setting(64, "width of the tiny GPT-2 (a multiple of n_head)", POSITIVE)

    def check_together(self) -> None:
        if self.n_embd % self.n_head:
            raise ParameterError(
                f"Setting 'model.n_embd' = {self.n_embd} is not a multiple of 'model.n_head' = {self.n_head}; "
                f"choose a width divisible by the number of heads."
            )


@dataclass(frozen=True)
class SFTConfig(Section):
    SECTION: ClassVar[str] = "sft"
    answer_weights: str | list[float] = setting(  # noqa: RUF009 (a dataclasses.field)
        "skewed",
        "answer distribution of the SFT corpus",
        _answer_weights,
        "'skewed', 'uniform' or a list of positive weights, one per answer",
    )
    skew: float = setting(
        0.5, "with 'skewed': weight of answer i is skew^((i - x) mod n)", Interval(0, 1, closed="right")
    )
    steps: int = setting(600, "SFT steps", NON_NEGATIVE)
    batch_size: int = setting(64, "SFT sequences per step", POSITIVE)
    lr: float = setting(3e-3, "SFT learning rate (AdamW, linear decay)", POSITIVE)


@dataclass(frozen=True)
class PreferenceModelConfig(Section):
    SECTION: ClassVar[str] = "preference_model"
    steps: int = setting(400, "training steps of the pairwise preference model", NON_NEGATIVE)
    batch_size: int = setting(128, "pairs per step", POSITIVE)
    lr: float = setting(2e-3, "learning rate", POSITIVE)
    n_layer: int = setting(2, "layers of its transformer (the reward model uses the same size)", POSITIVE)
    n_embd: int = setting(64, "width of its transformer", POSITIVE)

    def check_together(self) -> None:
        if self.n_embd % 2:
            raise ParameterError("Setting 'preference_model.n_embd' must be even (the model has two heads).")


@dataclass(frozen=True)
class RewardModelConfig(Section):
    SECTION: ClassVar[str] = "reward_model"
    steps: int = setting(400, "training steps of the Bradley–Terry reward model", NON_NEGATIVE)
    batch_size: int = setting(128, "pairs per step", POSITIVE)
    lr: float = setting(2e-3, "learning rate", POSITIVE)
    source: str = setting(
        "trained",
        "'trained' (learned from the labelled pairs) or a local Hugging Face sequence-classification "
        "model directory (num_labels = 1) whose score is RLHF's reward",
        _has_words,
    )


@dataclass(frozen=True)
class PolicyConfig(Section):
    SECTION: ClassVar[str] = "policy"
    methods: list[str] = setting(  # noqa: RUF009 (a dataclasses.field with a default_factory)
        list(METHODS), "methods to train", _method_list, "a list drawn from " + ", ".join(METHODS)
    )
    judge: str = setting(
        "preference-model",
        "judge of the NLHF methods: oracle, preference-model, hf-reward:DIR (Bradley–Terry of a reward model), "
        "hf-pairwise:DIR (a pairwise classifier) or module:callable",
    )
    steps: int = setting(250, "policy-gradient steps of each method", NON_NEGATIVE)
    batch_size: int = setting(64, "sampled pairs per step", POSITIVE)
    lr: float = setting(1e-3, "learning rate of the NLHF methods (Adam, constant after warm-up)", POSITIVE)
    tau: float = setting(0.1, "KL strength tau of the NLHF methods", KL_STRENGTH, "in [0.001, 100]")
    beta: float = setting(0.125, "Nash-MD-PG mixture coefficient beta", UNIT, "in [0, 1]")
    ema_beta: float = setting(
        0.9, "Nash-EMA-PG: EMA coefficient of the opponent", Interval(0, 1, closed="left"), "in [0, 1)"
    )
    eval_every: int = setting(25, "steps between exact evaluations (answer distribution, KL, win rate)", POSITIVE)


@dataclass(frozen=True)
class RLHFConfig(Section):
    SECTION: ClassVar[str] = "rlhf"
    tau: float = setting(0.1, "KL strength tau of RLHF", KL_STRENGTH, "in [0.001, 100]")
    lr: float = setting(2e-4, "RLHF learning rate (rewards have a larger scale than preference signals)", POSITIVE)


@dataclass(frozen=True)
class EvalConfig(Section):
    SECTION: ClassVar[str] = "eval"
    sampled_pairs: int = setting(
        256, "sampled responses per method pair judged by the true game (0: off)", NON_NEGATIVE
    )


#: Sections whose batch is split into ``run.shards`` shards.
BATCHED = ("sft", "policy", "preference_model", "reward_model")


@dataclass(frozen=True)
class TrainingConfig:
    """Every setting of a run, one typed section per TOML table (in the order they are written)."""

    run: RunConfig = field(default_factory=RunConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    data: DataConfig = field(default_factory=DataConfig)
    preference_model: PreferenceModelConfig = field(default_factory=PreferenceModelConfig)
    reward_model: RewardModelConfig = field(default_factory=RewardModelConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    rlhf: RLHFConfig = field(default_factory=RLHFConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    compute: ComputeConfig = field(default_factory=ComputeConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)

    def __post_init__(self) -> None:
        shards = self.run.shards
        for name in BATCHED:
            batch_size = getattr(self, name).batch_size
            if shards and batch_size % shards:
                raise ParameterError(
                    f"Setting '{name}.batch_size' = {batch_size} is not a multiple of "
                    f"'run.shards' = {shards}; make every batch size divisible by the shards."
                )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> TrainingConfig:
        """The defaults with every ``section.key`` of ``values`` replaced, validated.

        Args:
            values: ``{section: {key: value}}`` overrides of the defaults.

        Returns:
            The validated config.

        Raises:
            ParameterError: an unknown section or key, or a value of the wrong type or out of range.
        """
        merged = merge(defaults(), values)
        sections: dict[str, Any] = {name: section(**merged[name]) for name, section in SECTIONS.items()}
        return cls(**sections)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{section: {key: value}}`` in the order of the TOML file."""
        return {name: getattr(self, name).to_dict() for name in SECTIONS}

    def updated(self, **changes: Mapping[str, Any]) -> TrainingConfig:
        """A copy with some keys of some sections replaced (and validated), e.g. ``updated(run={"seed": 1})``.

        Args:
            changes: ``section={key: value}`` for each section to change.

        Returns:
            The new config (this one is unchanged).

        Raises:
            ParameterError: a value of the wrong type or out of range.
        """
        sections = {name: replace(getattr(self, name), **values) for name, values in changes.items()}
        return replace(self, **sections)

    def differences(self, other: TrainingConfig) -> list[str]:
        """``section.key`` names whose values differ between ``self`` and ``other``.

        Args:
            other: the config to compare with (e.g. the one stored in a run directory).

        Returns:
            The differing ``section.key`` names, in file order.
        """
        mine, theirs = self.to_dict(), other.to_dict()
        return [f"{s}.{k}" for s in mine for k in mine[s] if mine[s][k] != theirs[s][k]]


#: The section classes by TOML table name, in file order.
SECTIONS: dict[str, type[Section]] = typing.get_type_hints(TrainingConfig)

#: Built-in configurations, as overrides of the defaults.
BUILTIN: dict[str, dict[str, dict[str, Any]]] = {
    "default": {},
    "smoke": {
        "run": {"checkpoint_every": 25},
        "sft": {"steps": 150, "batch_size": 32},
        "data": {"pairs": 1024},
        "preference_model": {"steps": 120, "batch_size": 64, "n_layer": 1},
        "reward_model": {"steps": 120, "batch_size": 64},
        "policy": {"steps": 80, "batch_size": 32, "eval_every": 20},
        "rlhf": {"lr": 5e-4},
        "eval": {"sampled_pairs": 64},
    },
    # The preset built the way the paper's data was, at its study defaults (tau = 0.1, tau_R = 0.3, mu = the SFT
    # answer weights): one hedge, so the token-level mixture is the sequence-level one; feedback in two rounds
    # (the second from the current self-play policy too) so the preference model sees the pairs SFT rarely writes;
    # the reward model fitted on the SFT model's pairs, as the paper's was. `nlhf study --config paper-comparison`.
    "paper-comparison": {
        "task": {"game": "preset:paper-comparison", "hedges": ["maybe"]},
        "sft": {"answer_weights": [0.05, 0.05, 0.7, 0.2]},
        "data": {"pairs": 4096, "rounds": 2, "explore_steps": 100, "reward_pairs": "sft"},
        "reward_model": {"steps": 200},
        "policy": {"methods": ["rlhf", "self-play", "nash-md-pg"], "batch_size": 32, "tau": 0.1, "beta": 0.5},
        "rlhf": {"tau": 0.3},
    },
}


def defaults() -> dict[str, dict[str, Any]]:
    """The default configuration as a nested mapping ``{section: {key: value}}`` (a fresh copy)."""
    return {name: {s.name: copy.deepcopy(s.default) for s in field_specs(cls)} for name, cls in SECTIONS.items()}


def valid_keys() -> list[str]:
    """Every ``section.key`` name."""
    return [f"{name}.{spec.name}" for name, cls in SECTIONS.items() for spec in field_specs(cls)]


def _is_key(section: str, key: str) -> bool:
    return section in SECTIONS and any(spec.name == key for spec in field_specs(SECTIONS[section]))


def _unknown(name: str) -> ParameterError:
    return ParameterError(f"Unknown setting {name!r}; valid keys are {', '.join(valid_keys())}.")


def merge(base: dict[str, dict[str, Any]], over: Mapping[str, Any], where: str = "") -> dict[str, dict[str, Any]]:
    """``base`` with every ``section.key`` of ``over`` replaced (unknown keys are rejected)."""
    out = copy.deepcopy(base)
    for section, values in over.items():
        if section not in SECTIONS:
            raise _unknown(section)
        if not isinstance(values, Mapping):
            raise ParameterError(f"Setting {section!r}{where} must be a table of keys, e.g. [{section}].")
        for key, value in values.items():
            if not _is_key(section, key):
                raise _unknown(f"{section}.{key}")
            out[section][key] = copy.deepcopy(value)
    return out


def parse_override(item: str) -> tuple[str, str, Any]:
    """``"policy.tau=0.05"`` -> ``("policy", "tau", 0.05)``; values are TOML literals or plain text."""
    name, sep, raw = item.partition("=")
    name = name.strip()
    section, dot, key = name.partition(".")
    if not sep or not dot or not key:
        raise ParameterError(f"Override {item!r} is not SECTION.KEY=VALUE; write e.g. --set policy.tau=0.05.")
    if not _is_key(section, key):
        raise _unknown(name)
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return section, key, value


def apply_overrides(values: dict[str, dict[str, Any]], overrides: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``values`` (a nested mapping, changed in place) with every ``SECTION.KEY=VALUE`` override applied."""
    for item in overrides:
        section, key, value = parse_override(item)
        values[section][key] = value
    return values


def load_config(spec: str | Path | None = None, overrides: Iterable[str] = ()) -> TrainingConfig:
    """Resolve ``spec`` (a built-in name, a ``.toml`` path, or ``None`` for ``default``) plus overrides.

    Args:
        spec: a built-in config name (see :data:`BUILTIN`), a ``.toml`` file, or ``None``.
        overrides: ``section.key=value`` strings (TOML literals, else plain strings), applied last.

    Returns:
        The validated config.

    Raises:
        ParameterError: no such config or file, a TOML syntax error, or a bad key or value (one sentence).
    """
    name = "default" if spec is None else str(spec)
    if name in BUILTIN:
        values = merge(defaults(), BUILTIN[name])
    else:
        path = Path(name)
        if path.suffix.lower() != ".toml" or not path.is_file():
            raise ParameterError(
                f"There is no config {name!r}; give a built-in name ({', '.join(BUILTIN)}) or an existing .toml file."
            )
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ParameterError(f"The config file {path.name!r} is not valid TOML ({err}); fix the syntax.") from None
        values = merge(defaults(), data, where=f" in {path.name}")
    return TrainingConfig.from_mapping(apply_overrides(values, overrides))
