"""What every ``nlhf`` command prints: one JSON object for scripts, aligned tables for people.

JSON has no NaN or Infinity, so non-finite floats are printed as ``null``; NumPy arrays and
scalars become plain lists and numbers. Tables show floats with six significant digits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nlhf_core.games.game import PreferenceGame


# ---------------------------------------------------------------------- JSON
def jsonable(value: Any) -> Any:
    """``value`` with NumPy arrays and scalars as Python lists and numbers, and non-finite floats as None.

    Args:
        value: a result made of dicts, lists, tuples, NumPy arrays and scalars.

    Returns:
        The same structure, ready for :func:`json.dumps` (dict keys become strings).
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def emit_json(obj: Mapping[str, Any]) -> None:
    """Print ``obj`` as one line of JSON on stdout (the ``--json`` contract of every command)."""
    print(json.dumps(jsonable(dict(obj)), ensure_ascii=False))


# ---------------------------------------------------------------------- tables
def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """Left-aligned columns under ``header`` and a rule of dashes; floats with six significant digits.

    Args:
        rows: the table's rows, each as long as ``header``.
        header: the column titles.

    Returns:
        The table as text, without a final newline.
    """
    cells = [[cell(c) for c in row] for row in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cell(value: Any) -> str:
    """One table cell: floats as ``{:.6g}``, anything else as ``str``."""
    if isinstance(value, float | np.floating):
        return f"{value:.6g}"
    return str(value)


# ---------------------------------------------------------------------- games and policies
def game_fields(game: PreferenceGame) -> dict[str, Any]:
    """The JSON keys that describe the game: ``labels``, and ``contexts`` and ``weights`` when it has contexts."""
    out: dict[str, Any] = {"labels": list(game.labels)}
    if game.has_contexts:
        out["contexts"] = list(game.contexts)
        out["weights"] = game.weights
    return out


def per_context(game: PreferenceGame, array: np.ndarray | None) -> np.ndarray | None:
    """A ``(C, ...)`` result as printed: the whole array for a game with contexts, its one row otherwise.

    Args:
        game: the game the result belongs to.
        array: an array with a leading context axis, or None.

    Returns:
        ``array`` when the game has contexts, ``array[0]`` when it has not, None for None.
    """
    if array is None:
        return None
    return array if game.has_contexts else array[0]


def policy_rows(game: PreferenceGame, policy: np.ndarray) -> list[list[Any]]:
    """Table rows ``[response, probability]``, or ``[context, response, probability]`` for a game with contexts."""
    policy = np.atleast_2d(policy)
    if not game.has_contexts:
        return [[label, float(p)] for label, p in zip(game.labels, policy[0], strict=True)]
    return [
        [ctx, label, float(p)]
        for ctx, row in zip(game.contexts, policy, strict=True)
        for label, p in zip(game.labels, row, strict=True)
    ]


def policy_header(game: PreferenceGame) -> list[str]:
    """The header that goes with :func:`policy_rows`."""
    return ["context", "response", "probability"] if game.has_contexts else ["response", "probability"]


def print_summary(
    title: str,
    game: PreferenceGame,
    game_arg: str,
    params: Mapping[str, Any],
    steps: str,
    queries: int,
    policy: np.ndarray,
    metrics: Mapping[str, float | None],
) -> None:
    """The readable result of ``solve`` and ``pg``: settings, cost, final policy table, final metrics.

    Args:
        title: the algorithm's title.
        game: the game that was solved.
        game_arg: the ``GAME`` argument, shown when the game has no name.
        params: the settings the run used.
        steps: the run's length in words, e.g. ``"500 iterations"``.
        queries: preference queries the run made.
        policy: the final policy, ``(n,)`` or ``(C, n)``.
        metrics: final metrics; None values are not printed.
    """
    shown = ", ".join(f"{k}={v}" for k, v in params.items())
    print(f"{title} on {game.name or game_arg}: {shown}")
    print(f"{steps}, {queries} preference queries\n")
    print(table(policy_rows(game, policy), policy_header(game)))
    print()
    for k, v in metrics.items():
        if v is not None:
            print(f"{k.replace('_', ' ')}: {v:.3g}")
