"""Study settings: the language-model config keys a tabular study reads, and the defaults stored with presets.

A tabular study takes the same settings, under the same names, as ``nlhf study`` for the language
model (:mod:`nlhf_core.llm.config`): ``task.game``, ``sft.answer_weights`` (and ``sft.skew``) for the
reference ``mu``, ``data.pairs`` (here ``0`` means the exact, infinite-data limit), ``data.noise``,
``policy.tau`` and ``rlhf.tau``. They resolve in this order, later ones winning:

1. the language-model defaults (:func:`nlhf_core.llm.config.defaults`);
2. the **preset's study defaults**, when the game is a preset that has them: a JSON file
   ``assets/presets/study-defaults/NAME.json`` written by ``scripts/make_presets.py`` next to the game
   (``{"settings": {"section.key": value, ...}, "betas": [...], "seeds": count, "groups": [...]}``);
3. the ``--set section.key=value`` overrides.

:func:`preset_overrides` gives step 2 as ``section.key=value`` strings, so the language-model study
can lay the same defaults under its own overrides.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from nlhf_core.errors import ParameterError
from nlhf_core.games.presets import PRESET_DIR, open_game
from nlhf_core.llm import config as cfgmod
from nlhf_core.llm.task import AnswerTask
from nlhf_core.study.tabular import TabularSettings, tabular_settings

STUDY_DEFAULTS_DIR = PRESET_DIR / "study-defaults"
#: The language-model settings a tabular study reads (every other key is for training only).
TABULAR_KEYS = ("task.game", "sft.answer_weights", "sft.skew", "data.pairs", "data.noise", "policy.tau", "rlhf.tau")
#: Seeds and betas when neither the command line nor the preset gives them.
DEFAULT_SEEDS = 10
DEFAULT_BETAS = (0.125, 0.25, 0.5)


@dataclass(frozen=True)
class PresetStudy:
    """A preset's study defaults: settings (``section.key -> value``), betas, seed count and annotator groups."""

    name: str
    settings: dict[str, Any]
    betas: tuple[float, ...]
    seeds: int
    groups: tuple[dict[str, Any], ...]


@cache
def preset_study(name: str) -> PresetStudy | None:
    """The study defaults stored with preset ``name``, or None when it has none.

    Args:
        name: the preset's name (without ``preset:``; case and surrounding spaces are ignored).

    Returns:
        The :class:`PresetStudy` read from ``assets/presets/study-defaults/NAME.json`` (cached), or None when
        that file does not exist.

    Raises:
        ParameterError: the file names a setting outside :data:`TABULAR_KEYS`.
    """
    path = STUDY_DEFAULTS_DIR / f"{name.strip().lower()}.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    unknown = [k for k in data["settings"] if k not in TABULAR_KEYS]
    if unknown:
        raise ParameterError(f"The study defaults of preset {name!r} name an unknown setting {unknown[0]!r}.")
    return PresetStudy(
        name, dict(data["settings"]), tuple(data["betas"]), int(data["seeds"]), tuple(data.get("groups", ()))
    )


def _preset_name(game: str) -> str | None:
    return game[len("preset:") :] if isinstance(game, str) and game.startswith("preset:") else None


def preset_overrides(game: str) -> list[str]:
    """The preset's study defaults as ``section.key=value`` overrides (empty for other games).

    Args:
        game: the ``task.game`` setting: ``preset:NAME`` or a game file (anything else gives no overrides).

    Returns:
        One ``section.key=value`` string per setting of the preset's study defaults (values as JSON, which
        :func:`nlhf_core.llm.config.parse_override` reads back), in the file's order; empty when ``game`` is
        not a preset or the preset has no study defaults.

    Raises:
        ParameterError: the preset's study-defaults file names a setting outside :data:`TABULAR_KEYS`.
    """
    name = _preset_name(game)
    found = preset_study(name) if name else None
    return [] if found is None else [f"{k}={json.dumps(v)}" for k, v in found.settings.items()]


def resolve_settings(overrides: Iterable[str] = ()) -> dict[str, Any]:
    """``{section.key: value}`` for :data:`TABULAR_KEYS`: LM defaults, then the preset's, then ``overrides``.

    The game is read from ``overrides`` first (the last ``task.game`` wins), so the preset's study defaults
    are those of the game asked for; every override then wins over them.

    Args:
        overrides: ``section.key=value`` strings (the ``--set`` options; values are TOML literals or plain
            text), each naming one of :data:`TABULAR_KEYS`.

    Returns:
        One value per key of :data:`TABULAR_KEYS`, as given (checked by :func:`tabular_settings_from`).

    Raises:
        ParameterError: an override is not ``SECTION.KEY=VALUE``, names an unknown setting or one the tabular
            engine does not read, or the preset's study-defaults file names an unknown setting.
    """
    base = cfgmod.defaults()
    values = {k: copy.deepcopy(base[k.split(".")[0]][k.split(".")[1]]) for k in TABULAR_KEYS}
    parsed = []
    for item in overrides:
        section, key, value = cfgmod.parse_override(item)
        name = f"{section}.{key}"
        if name not in TABULAR_KEYS:
            raise ParameterError(
                f"The tabular engine has no setting {name!r} (it trains nothing); it reads {', '.join(TABULAR_KEYS)}."
            )
        parsed.append((name, value))
    for name, value in parsed:
        if name == "task.game":
            values["task.game"] = value
    for item in preset_overrides(values["task.game"]):
        section, key, value = cfgmod.parse_override(item)
        values[f"{section}.{key}"] = value
    for name, value in parsed:
        values[name] = value
    return values


def _number(values: dict[str, Any], name: str) -> float:
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"Setting {name!r} must be a finite number, not {value!r}.")
    return float(value)


def reference_from_weights(game: Any, weights: Any, skew: Any = 0.5) -> Any:
    """``mu`` ``(C, n)`` from ``sft.answer_weights`` exactly as the LM's SFT corpus is built (normalized weights)."""
    ok = weights in ("skewed", "uniform") if isinstance(weights, str) else isinstance(weights, Sequence)
    if ok and not isinstance(weights, str):
        ok = len(weights) > 0 and all(
            isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w) and w > 0 for w in weights
        )
    if not ok:
        raise ParameterError(
            f"Setting 'sft.answer_weights' = {weights!r} must be 'skewed', 'uniform' or one positive weight per "
            f"answer (mu ∝ the weights; a zero would be an answer SFT never writes, which no KL-regularized method "
            f"can revive)."
        )
    if isinstance(skew, bool) or not isinstance(skew, int | float) or not 0 < skew <= 1:
        raise ParameterError(f"Setting 'sft.skew' = {skew!r} is out of range; it must be in (0, 1].")
    return AnswerTask.from_game(game).sft_distribution(weights, float(skew))


def tabular_settings_from(
    values: dict[str, Any], *, betas: Iterable[float] | None = None, seeds: Iterable[int] | None = None
) -> tuple[TabularSettings, str]:
    """The :class:`TabularSettings` (and the game spec) of resolved ``values``; betas/seeds default to the preset's.

    ``mu`` is built from ``sft.answer_weights`` and ``sft.skew`` exactly as the language-model study's SFT
    corpus is (:func:`reference_from_weights`).

    Args:
        values: ``{section.key: value}`` for every key of :data:`TABULAR_KEYS` (from :func:`resolve_settings`).
        betas: Nash-MD-PG's mixture coefficients, each in ``[0, 1]``; None takes the preset's study defaults,
            else :data:`DEFAULT_BETAS`. ``beta = 1`` is always added.
        seeds: the seeds (distinct, non-negative; ignored when ``data.pairs = 0``); None takes
            ``range(count)`` with the preset's seed count, else :data:`DEFAULT_SEEDS`.

    Returns:
        ``(settings, spec)``: the validated settings (``reference`` of shape ``(C, n)``) and the ``task.game``
        string they were read from.

    Raises:
        ParameterError: a setting is of the wrong type or out of range (``task.game`` not a string,
            ``data.pairs`` not a whole number in range, ``policy.tau``, ``rlhf.tau`` or ``data.noise`` not a valid
            number, ``sft.answer_weights`` or ``sft.skew`` invalid), a bad beta or seed list, or the preset's
            study-defaults file names an unknown setting.
        GameValidationError: the game is an unknown preset or an invalid file, or its labels cannot be answers
            (two render alike, or one is the reserved malformed label).
        PolicyError: ``mu`` gives a response probability 0 (only when a tiny ``sft.skew`` underflows).
    """
    spec = values["task.game"]
    if not isinstance(spec, str):
        raise ParameterError(f"Setting 'task.game' must be preset:NAME or a game file, not {spec!r}.")
    game = open_game(spec)
    name = _preset_name(spec)
    found = preset_study(name) if name else None
    pairs = values["data.pairs"]
    if isinstance(pairs, bool) or not isinstance(pairs, int):
        raise ParameterError(f"Setting 'data.pairs' must be a whole number of pairs (0: exact), not {pairs!r}.")
    if pairs < 0:
        raise ParameterError(f"Setting 'data.pairs' = {pairs} is negative; give 0 (the exact limit) or more pairs.")
    mu = reference_from_weights(game, values["sft.answer_weights"], values["sft.skew"])
    settings = tabular_settings(
        game,
        mu,
        tau=_number(values, "policy.tau"),
        rlhf_tau=_number(values, "rlhf.tau"),
        betas=(found.betas if found else DEFAULT_BETAS) if betas is None else betas,
        pairs=pairs,
        noise=_number(values, "data.noise"),
        seeds=range(found.seeds if found else DEFAULT_SEEDS) if seeds is None else seeds,
    )
    return settings, spec
