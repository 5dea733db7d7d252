"""Bars over the responses: policies (probabilities, on a [0, 1] axis) and rewards (on their own axis).

A policy ``π`` gives each response a probability, so its bars share an axis titled "probability"
from 0. A Bradley–Terry reward ``r(y)`` (``P(y ≻ y') = σ(r(y) − r(y'))``, Munos et al. 2024,
Section 2) is a real number, defined up to a constant and often negative: it gets its own axis
titled "reward" whose range always contains every bar (and its error bar) and 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nlhf_core.viz.layout import FigureSpec, axis, base_layout, escape, escape_all, floats, play_controls
from nlhf_core.viz.palette import role, series_styles

_MARGIN = 0.08  # share of the data's span added above and below on the reward axis


def _bar_trace(name: str, x: list[str], y: list[float], colour: str, pattern: str) -> dict[str, object]:
    """One named bar series."""
    trace: dict[str, object] = {
        "type": "bar",
        "name": escape(name),
        "x": x,
        "y": y,
        "marker": {"color": colour, **({"pattern": {"shape": pattern}} if pattern else {})},
        "hovertemplate": f"{escape(name)}<br>%{{x}}: %{{y:.4g}}<extra></extra>",
    }
    return trace


def policy_bars(
    labels: Sequence[str],
    policies: Mapping[str, np.ndarray],
    title: str = "Policies over the responses",
    spread: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> FigureSpec:
    """Grouped bars: the probability each named policy gives each response.

    Args:
        labels: Response names.
        policies: Named policies (each ``(n,)``), drawn in their role's colour.
        title: Figure title.
        spread: Optional ``(low, high)`` per policy name (e.g. the range over seeds), drawn as error bars.

    Returns:
        A figure dict with a probability axis from 0 to 1.
    """
    x = escape_all(labels)
    styles = series_styles(list(policies))
    data = [
        _bar_trace(name, x, floats(p), s.colour, s.pattern)
        for (name, p), s in zip(policies.items(), styles, strict=True)
    ]
    for trace, (name, p) in zip(data, policies.items(), strict=True):
        if spread and name in spread:
            centre = np.ravel(np.asarray(p, dtype=float))
            low, high = (np.ravel(np.asarray(v, dtype=float)) for v in spread[name])
            trace["error_y"] = {
                "type": "data",
                "symmetric": False,
                "array": floats(np.clip(high - centre, 0, None)),
                "arrayminus": floats(np.clip(centre - low, 0, None)),
            }
    layout = base_layout(
        title,
        height=380,
        barmode="group",
        xaxis=axis("response", type="category"),
        yaxis=axis("probability", range=[0, 1]),
    )
    return {"data": data, "layout": layout}


def reward_range(rewards: Sequence[np.ndarray], errors: Sequence[np.ndarray | None] = ()) -> list[float]:
    """A y range holding 0, every reward and every ``reward ± error``, with a margin.

    Args:
        rewards: Reward vectors.
        errors: Matching standard errors (or ``None``).

    Returns:
        ``[low, high]`` with ``low ≤ min(0, r − e)`` and ``high ≥ max(0, r + e)``.
    """
    lows, highs = [0.0], [0.0]
    for k, r in enumerate(rewards):
        r = np.asarray(r, dtype=float)
        e = np.zeros_like(r) if k >= len(errors) or errors[k] is None else np.abs(np.asarray(errors[k], dtype=float))
        finite = np.isfinite(r) & np.isfinite(e)
        if finite.any():
            lows.append(float(np.min((r - e)[finite])))
            highs.append(float(np.max((r + e)[finite])))
    low, high = min(lows), max(highs)
    pad = _MARGIN * (high - low) or 0.1
    if low == high:  # every reward 0: a symmetric range around the zero line
        return [-pad, pad]
    return [low - pad if low < 0 else 0.0, high + pad if high > 0 else 0.0]


def rewards_bar(
    labels: Sequence[str],
    rewards: np.ndarray | Mapping[str, np.ndarray],
    title: str = "Bradley–Terry rewards (centred)",
    errors: np.ndarray | Mapping[str, np.ndarray] | None = None,
) -> FigureSpec:
    """Rewards, one bar per response, on an axis titled "reward" (not a probability: never clipped).

    Args:
        labels: Response names.
        rewards: One reward vector ``(n,)`` (drawn in the reward model's colour), or named vectors
            (grouped bars, each in its name's role colour).
        title: Figure title.
        errors: ±1 standard errors, matching ``rewards`` (a vector, or vectors by name).

    Returns:
        A figure dict whose y range contains 0, every reward and every error bar.
    """
    if not isinstance(rewards, Mapping):
        rewards = {"reward model": np.asarray(rewards)}
        errors = None if errors is None else {"reward model": np.asarray(errors)}
    named_errors = dict(errors) if isinstance(errors, Mapping) else {}
    x = escape_all(labels)
    data = []
    for (name, r), style in zip(rewards.items(), series_styles(list(rewards)), strict=True):
        trace = _bar_trace(name, x, floats(r), style.colour, style.pattern)
        trace["hovertemplate"] = f"{escape(name)}<br>%{{x}}: r = %{{y:.4g}}<extra></extra>"
        if name in named_errors:
            trace["error_y"] = {"type": "data", "array": floats(named_errors[name]), "visible": True}
        data.append(trace)
    y_range = reward_range(list(rewards.values()), [named_errors.get(name) for name in rewards])
    layout = base_layout(
        title,
        height=340,
        legend_below=len(rewards) > 1,
        showlegend=len(rewards) > 1,
        barmode="group",
        xaxis=axis("response", type="category"),
        yaxis=axis("reward", range=y_range, zeroline=True),
    )
    return {"data": data, "layout": layout}


def bar_animation(
    labels: Sequence[str],
    path: np.ndarray,
    queries: Sequence[int],
    markers: Mapping[str, np.ndarray],
    title: str = "Policy over the responses",
) -> FigureSpec:
    """Animated bars of a policy over many responses, with fixed named policies as ticks (figure dict).

    Args:
        labels: Response names.
        path: ``(R, n)`` policies, one per frame.
        queries: ``R`` query counts (the slider's labels).
        markers: Fixed named policies drawn as horizontal ticks in their role's colour.
        title: Figure title.

    Returns:
        A figure dict whose first trace (the bars) is the only one each frame replaces.
    """
    x = escape_all(labels)
    path = np.asarray(path, dtype=float)
    colour = role("policy").colour

    def bars(k: int) -> list[dict[str, object]]:
        return [{"type": "bar", "x": x, "y": floats(path[k]), "name": "policy", "marker": {"color": colour}}]

    data = bars(0)
    for (name, point), style in zip(markers.items(), series_styles(list(markers)), strict=True):
        data.append(
            {
                "type": "scatter",
                "x": x,
                "y": floats(point),
                "mode": "markers",
                "name": escape(name),
                "marker": {"symbol": "line-ew-open", "size": 26, "line": {"width": 3}, "color": style.colour},
            }
        )
    top = max([float(path.max()), *(float(np.max(p)) for p in markers.values())])
    frame_names = [str(k) for k in range(len(path))]
    layout = {
        **base_layout(title, height=470),
        "xaxis": axis("response", type="category"),
        "yaxis": axis("probability", range=[0, min(1.0, top * 1.1 + 0.02)]),
        "margin": {"l": 10, "r": 10, "t": 60, "b": 110},
        "legend": {"orientation": "h", "y": -0.35},
        **play_controls(frame_names, [str(int(q)) for q in queries]),
    }
    frames = [{"name": frame_names[k], "data": bars(k), "traces": [0]} for k in range(len(path))]
    return {"data": data, "layout": layout, "frames": frames}
