"""Measured cells of a ``study.json`` (a language-model study, or another tabular one) placed on the beta curve.

Self-play is Nash-MD-PG at ``beta = 0`` and ``nash-md-pg(beta=B)`` sits at ``beta = B``; each gives its
measured win rate against RLHF and against self-play with the file's interval (``win_rates_ci_low`` /
``win_rates_ci_high``). :func:`measured_points` checks the file is a study of the same game first, so a
study of another game is never drawn over this one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from nlhf_core.errors import ParameterError

PREFIX, SUFFIX = "nash-md-pg(beta=", ")"


def study_game(study: Mapping[str, Any]) -> str:
    """The game a ``study.json`` was run on (``resolved_config.task.game``), or ``""`` when it does not say.

    Args:
        study: a parsed ``study.json`` (either engine's).

    Returns:
        The ``task.game`` string (``preset:NAME``, a game file, or a custom game's name), or ``""`` when the
        file has no ``resolved_config.task.game`` string.
    """
    try:
        game = study["resolved_config"]["task"]["game"]
    except (KeyError, TypeError):
        return ""
    return game if isinstance(game, str) else ""


def _table(study: Mapping[str, Any], key: str, k: int) -> list[list[float]]:
    table = study.get(key)
    if (
        isinstance(table, list)
        and len(table) == k
        and all(isinstance(row, list) and len(row) == k for row in table)
        and all(isinstance(v, int | float) and math.isfinite(v) for row in table for v in row)
    ):
        return table
    raise ParameterError(f"The study file's {key!r} is not a {k}×{k} table of numbers; use a study.json of nlhf.")


def measured_points(study: Any, game: str) -> list[dict[str, Any]]:
    """``{"opponent", "beta", "value", "low", "high", "name", "method"}`` for every self-play / Nash-MD-PG cell
    against ``rlhf`` and ``self-play``; :class:`ParameterError` (one sentence) unless it studies ``game``.

    Args:
        study: a parsed ``study.json`` of ``nlhf study`` (any JSON value is accepted and checked).
        game: the ``task.game`` of the curve it is drawn on (e.g. ``preset:NAME``); it must equal
            :func:`study_game` of ``study``.

    Returns:
        One point per (method, opponent) cell, self-play at ``beta = 0`` and ``nash-md-pg(beta=B)`` at
        ``beta = B``, against each of ``rlhf`` and ``self-play`` the file has (a method is never its own
        opponent): ``value`` is ``win_rates[i][j]``, ``low``/``high`` the file's interval, ``name`` the legend
        entry (engine, opponent, seed count) and ``method`` the row's name.

    Raises:
        ParameterError: ``study`` is not an object with a list of ``methods``, was run on another game, has a
            ``win_rates`` / ``win_rates_ci_low`` / ``win_rates_ci_high`` that is not an ``M × M`` table of finite
            numbers, or has no self-play or Nash-MD-PG cell against ``rlhf`` or ``self-play``.
    """
    if not isinstance(study, Mapping) or not isinstance(study.get("methods"), list):
        raise ParameterError("The file is not a study.json of nlhf study (it has no list of methods).")
    where = study_game(study)
    if where != game:
        raise ParameterError(
            f"The study was run on {where or 'an unnamed game'}, not on {game}; its cells do not belong on this curve."
        )
    methods = [str(m) for m in study["methods"]]
    k = len(methods)
    W, low, high = (_table(study, key, k) for key in ("win_rates", "win_rates_ci_low", "win_rates_ci_high"))
    engine = "language-model" if study.get("engine", "lm") == "lm" else str(study.get("engine"))
    seeds = study.get("seeds") or []
    points = []
    for i, m in enumerate(methods):
        if m == "self-play":
            beta = 0.0
        elif m.startswith(PREFIX) and m.endswith(SUFFIX):
            try:
                beta = float(m[len(PREFIX) : -len(SUFFIX)])
            except ValueError:
                continue
        else:
            continue
        for opponent in ("rlhf", "self-play"):
            if opponent in methods and opponent != m:
                j = methods.index(opponent)
                points.append(
                    {
                        "opponent": opponent,
                        "beta": beta,
                        "value": float(W[i][j]),
                        "low": float(low[i][j]),
                        "high": float(high[i][j]),
                        "name": f"{engine} study vs {opponent} ({len(seeds)} seeds, 95% interval)",
                        "method": m,
                    }
                )
    if not points:
        raise ParameterError("The study has no self-play or Nash-MD-PG cells to draw on the beta curve.")
    return points
