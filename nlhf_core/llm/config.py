"""One configuration for the whole language-model pipeline: schema, built-in configs, overrides, validation.

A configuration is a two-level mapping ``section -> key -> value`` read from TOML. Every key
has a default, a type and a range in :data:`SCHEMA`; an unknown key or a value out of range
raises :class:`~nlhf_core.errors.ParameterError` with one sentence naming the key and the fix.
Built-in configurations are selected by name (``default``, ``smoke``); a path to a ``.toml``
file is read and laid over the defaults. ``--set section.key=value`` overrides (values are
parsed as TOML literals, falling back to plain strings) are applied last.
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlhf_core.errors import ParameterError

#: Policy-optimization methods, in the order they are trained (names as in ../shared/DESIGN.md).
METHODS = ("rlhf", "self-play", "nash-md-pg", "nash-ema-pg")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class Key:
    """One setting: default value, accepted type(s), a range check and its help text."""

    default: Any
    kind: type | tuple[type, ...]
    check: Callable[[Any], bool] | None
    help: str
    expect: str = ""


def _pos(v: Any) -> bool:
    return v > 0


def _nonneg(v: Any) -> bool:
    return v >= 0


def _unit(v: Any) -> bool:
    return 0.0 <= v <= 1.0


def _methods(v: Any) -> bool:
    return len(v) > 0 and all(isinstance(m, str) and m in METHODS for m in v) and len(set(v)) == len(v)


def _weights(v: Any) -> bool:
    if isinstance(v, str):
        return v in ("skewed", "uniform")
    return len(v) > 0 and all(isinstance(w, int | float) and w > 0 and math.isfinite(w) for w in v)


SCHEMA: dict[str, dict[str, Key]] = {
    "run": {
        "seed": Key(0, int, _nonneg, "master seed of every random draw", "a non-negative integer"),
        "device": Key("auto", str, DEVICES.__contains__, "auto, cpu, cuda or mps", "one of " + ", ".join(DEVICES)),
        "precision": Key("auto", str, PRECISIONS.__contains__, "auto (bf16 autocast on GPU), fp32 or bf16"),
        "threads": Key(
            1,
            int,
            _nonneg,
            "torch CPU threads per process (0: the cores available; 1 is fastest for the "
            "tiny models, whose matrices are too small to split)",
            ">= 0",
        ),
        "shards": Key(0, int, _nonneg, "data shards per step, split across DDP ranks (0: one per process)", ">= 0"),
        "checkpoint_every": Key(50, int, _pos, "steps between checkpoints of a stage", "a positive integer"),
    },
    "task": {
        "game": Key("preset:two-prompts", str, None, "true preferences: preset:NAME or a .json/.csv game file"),
        "prompt": Key("answer me", str, lambda v: bool(v.split()), "the prompt of a game without contexts"),
        "hedges": Key(
            ["maybe", "surely"],
            list,
            lambda v: len(v) > 0 and all(isinstance(h, str) for h in v),
            "first words of the answers: answer i is 'hedges[i % len] label'",
        ),
        "max_new_tokens": Key(4, int, _pos, "longest sampled response, in tokens"),
    },
    "model": {
        "source": Key("tiny", str, None, "'tiny' (built from this config) or a local Hugging Face model directory"),
        "n_layer": Key(2, int, _pos, "layers of the tiny GPT-2"),
        "n_head": Key(2, int, _pos, "attention heads of the tiny GPT-2"),
        "n_embd": Key(64, int, _pos, "width of the tiny GPT-2 (a multiple of n_head)"),
    },
    "sft": {
        "answer_weights": Key(
            "skewed",
            (str, list),
            _weights,
            "answer distribution of the SFT corpus",
            "'skewed', 'uniform' or a list of positive weights, one per answer",
        ),
        "skew": Key(0.5, float, lambda v: 0 < v <= 1, "with 'skewed': weight of answer i is skew^((i - x) mod n)"),
        "steps": Key(600, int, _nonneg, "SFT steps"),
        "batch_size": Key(64, int, _pos, "SFT sequences per step"),
        "lr": Key(3e-3, float, _pos, "SFT learning rate (AdamW, linear decay)"),
    },
    "data": {
        "pairs": Key(4096, int, _pos, "response pairs sampled from the SFT model and labelled"),
        "noise": Key(0.0, float, lambda v: 0 <= v <= 0.5, "probability that an annotator label is flipped"),
        "corrupt": Key(
            0.1,
            float,
            lambda v: 0 <= v < 1,
            "fraction of sampled responses with one token replaced at random, "
            "so the judges see malformed text (which loses to every answer)",
            "in [0, 1)",
        ),
    },
    "preference_model": {
        "steps": Key(400, int, _nonneg, "training steps of the pairwise preference model"),
        "batch_size": Key(128, int, _pos, "pairs per step"),
        "lr": Key(2e-3, float, _pos, "learning rate"),
        "n_layer": Key(2, int, _pos, "layers of its transformer (the reward model uses the same size)"),
        "n_embd": Key(64, int, _pos, "width of its transformer"),
    },
    "reward_model": {
        "steps": Key(400, int, _nonneg, "training steps of the Bradley–Terry reward model"),
        "batch_size": Key(128, int, _pos, "pairs per step"),
        "lr": Key(2e-3, float, _pos, "learning rate"),
    },
    "policy": {
        "methods": Key(list(METHODS), list, _methods, "methods to train", "a list drawn from " + ", ".join(METHODS)),
        "judge": Key(
            "preference-model", str, None, "judge of the NLHF methods: oracle, preference-model, or module:callable"
        ),
        "steps": Key(250, int, _nonneg, "policy-gradient steps of each method"),
        "batch_size": Key(64, int, _pos, "sampled pairs per step"),
        "lr": Key(1e-3, float, _pos, "learning rate of the NLHF methods (Adam, constant after warm-up)"),
        "tau": Key(0.1, float, lambda v: 1e-3 <= v <= 100, "KL strength tau of the NLHF methods", "in [0.001, 100]"),
        "beta": Key(0.125, float, _unit, "Nash-MD-PG mixture coefficient beta", "in [0, 1]"),
        "ema_beta": Key(0.9, float, lambda v: 0 <= v < 1, "Nash-EMA-PG: EMA coefficient of the opponent", "in [0, 1)"),
        "eval_every": Key(25, int, _pos, "steps between exact evaluations (answer distribution, KL, win rate)"),
    },
    "rlhf": {
        "tau": Key(0.1, float, lambda v: 1e-3 <= v <= 100, "KL strength tau of RLHF", "in [0.001, 100]"),
        "lr": Key(2e-4, float, _pos, "RLHF learning rate (rewards have a larger scale than preference signals)"),
    },
    "eval": {
        "sampled_pairs": Key(256, int, _nonneg, "sampled responses per method pair judged by the true game (0: off)"),
    },
}

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
}


def defaults() -> dict[str, dict[str, Any]]:
    """The default configuration (a fresh deep copy)."""
    return {s: {k: copy.deepcopy(key.default) for k, key in keys.items()} for s, keys in SCHEMA.items()}


def valid_keys() -> list[str]:
    return [f"{s}.{k}" for s, keys in SCHEMA.items() for k in keys]


def _unknown(name: str) -> ParameterError:
    return ParameterError(f"Unknown setting {name!r}; valid keys are {', '.join(valid_keys())}.")


def merge(base: dict[str, dict[str, Any]], over: Mapping[str, Any], where: str = "") -> dict[str, dict[str, Any]]:
    """``base`` with every ``section.key`` of ``over`` replaced (unknown keys are rejected)."""
    out = copy.deepcopy(base)
    for section, values in over.items():
        if section not in SCHEMA:
            raise _unknown(section)
        if not isinstance(values, Mapping):
            raise ParameterError(f"Setting {section!r}{where} must be a table of keys, e.g. [{section}].")
        for key, value in values.items():
            if key not in SCHEMA[section]:
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
    if section not in SCHEMA or key not in SCHEMA[section]:
        raise _unknown(name)
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return section, key, value


def _coerce(name: str, spec: Key, value: Any) -> Any:
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, kinds):
        names = " or ".join("number" if k is float else k.__name__ for k in kinds)
        raise ParameterError(f"Setting {name!r} must be a {names}, not {value!r}; see `nlhf train --help-config`.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"Setting {name!r} is {value!r}; give a finite number.")
    if spec.check is not None and not spec.check(value):
        expect = spec.expect or spec.help
        raise ParameterError(f"Setting {name!r} = {value!r} is out of range; it must be {expect}.")
    return value


def validate(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Check every key, type and range, plus cross-key rules; return the config with numbers coerced."""
    out = merge(defaults(), config)
    for section, keys in SCHEMA.items():
        for key, spec in keys.items():
            out[section][key] = _coerce(f"{section}.{key}", spec, out[section][key])
    model = out["model"]
    if model["n_embd"] % model["n_head"]:
        raise ParameterError(
            f"Setting 'model.n_embd' = {model['n_embd']} is not a multiple of 'model.n_head' = {model['n_head']}; "
            f"choose a width divisible by the number of heads."
        )
    if out["preference_model"]["n_embd"] % 2:
        raise ParameterError("Setting 'preference_model.n_embd' must be even (the model has two heads).")
    for section in ("sft", "policy", "preference_model", "reward_model"):
        if out["run"]["shards"] and out[section]["batch_size"] % out["run"]["shards"]:
            raise ParameterError(
                f"Setting '{section}.batch_size' = {out[section]['batch_size']} is not a multiple of "
                f"'run.shards' = {out['run']['shards']}; make every batch size divisible by the shards."
            )
    return out


def load_config(spec: str | Path | None = None, overrides: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """Resolve ``spec`` (a built-in name, a ``.toml`` path, or ``None`` for ``default``) plus overrides."""
    name = "default" if spec is None else str(spec)
    if name in BUILTIN:
        config = merge(defaults(), BUILTIN[name])
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
        config = merge(defaults(), data, where=f" in {path.name}")
    for item in overrides:
        section, key, value = parse_override(item)
        config[section][key] = value
    return validate(config)


def toml_value(value: Any) -> str:
    """``value`` (a bool, number, string or list of them) written as a TOML literal, e.g. ``true`` or ``["a", "b"]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def to_toml(config: Mapping[str, Mapping[str, Any]]) -> str:
    """The configuration as TOML, with each key's help as a comment (round-trips through :func:`load_config`)."""
    lines = []
    for section, values in config.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {toml_value(value)}  # {SCHEMA[section][key].help}")
        lines.append("")
    return "\n".join(lines)
