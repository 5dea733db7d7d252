"""Policies over 3 responses on the ternary simplex: the animated trajectory, the update field, static paths.

A policy ``π = (π(a), π(b), π(c))`` is a point of the 2-simplex, drawn in barycentric (ternary)
coordinates: each corner is one response. The update field draws, from a grid of policies ``π``,
an arrow towards ``T(π)``, one solver step (e.g. Nash-MD, Munos et al. 2024, Eq. 5); arrows are
scaled to a common length so the direction reads everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nlhf_core.viz.layout import FigureSpec, escape, escape_all, figure_title, floats, play_controls
from nlhf_core.viz.palette import FIELD_COLOUR, role, series_styles

_TAIL = 12  # recorded points drawn behind the moving policy
_ARROW_LENGTH = 0.06  # simplex units of the longest field arrow
_POLICY_OUTLINE = "#333333"
_HEAD_SIZE = 9  # px of each arrow head


def _ternary(points: np.ndarray) -> dict[str, list[float]]:
    """Columns ``a``, ``b``, ``c`` of ``(R, 3)`` points (or one point)."""
    pts = np.atleast_2d(np.asarray(points, dtype=float))
    return {"a": floats(pts[:, 0]), "b": floats(pts[:, 1]), "c": floats(pts[:, 2])}


def _ternary_layout(labels: list[str], title: str, height: int, bottom: int) -> dict[str, object]:
    """Layout of a ternary figure: a title and one titled axis per response."""
    return {
        "title": figure_title(title),
        "ternary": {
            "sum": 1,
            "aaxis": {"title": {"text": labels[0]}, "min": 0},
            "baxis": {"title": {"text": labels[1]}, "min": 0},
            "caxis": {"title": {"text": labels[2]}, "min": 0},
        },
        "height": height,
        "margin": {"l": 50, "r": 50, "t": 90, "b": bottom},
    }


def marker_traces(markers: Mapping[str, np.ndarray], size: int = 12) -> list[dict[str, object]]:
    """One ternary marker per named fixed policy, in its role's colour and symbol."""
    traces: list[dict[str, object]] = []
    for (name, point), style in zip(markers.items(), series_styles(list(markers)), strict=True):
        traces.append(
            {
                "type": "scatterternary",
                "mode": "markers",
                **_ternary(point),
                "name": escape(name),
                "marker": {
                    "size": size,
                    "symbol": style.marker,
                    "opacity": 0.9,
                    "color": style.colour,
                    "line": {"width": 1, "color": "white"},
                },
                "hovertemplate": f"{escape(name)}<br>%{{a:.3f}}, %{{b:.3f}}, %{{c:.3f}}<extra></extra>",
            }
        )
    return traces


def field_trace(points: np.ndarray, moved: np.ndarray) -> dict[str, object]:
    """The update field as arrows with heads: from each ``points[k]`` towards ``moved[k]``.

    Args:
        points: ``(K, 3)`` policies on a grid of the simplex.
        moved: ``(K, 3)`` the policies one solver step later.

    Returns:
        One ``scatterternary`` trace: a segment per point whose end carries an arrow head
        (marker ``arrow`` turned along the segment, ``angleref="previous"``).
    """
    start, end = np.asarray(points, dtype=float), np.asarray(moved, dtype=float)
    step = end - start
    longest = float(np.abs(step).max()) or 1.0
    tip = start + step * (_ARROW_LENGTH / longest)
    columns: dict[str, list[float | None]] = {"a": [], "b": [], "c": []}
    for p, q in zip(start, tip, strict=True):
        for k, name in enumerate(("a", "b", "c")):
            columns[name] += [round(float(p[k]), 5), round(float(q[k]), 5), None]
    sizes = [0, _HEAD_SIZE, 0] * len(start)
    return {
        "type": "scatterternary",
        "mode": "lines+markers",
        **columns,
        "name": "update field",
        "hoverinfo": "skip",
        "line": {"color": FIELD_COLOUR, "width": 1.5},
        "marker": {
            "symbol": "arrow",
            "angleref": "previous",
            "size": sizes,
            "color": FIELD_COLOUR,
            "line": {"width": 0},
        },
    }


def _moving_traces(path: np.ndarray, k: int) -> list[dict[str, object]]:
    """The policy after ``k`` recorded steps and its recent path (the traces each frame replaces)."""
    colour = role("policy").colour
    tail = path[max(0, k - _TAIL) : k + 1]
    return [
        {
            "type": "scatterternary",
            "mode": "markers",
            **_ternary(path[k]),
            "name": "policy",
            "hovertemplate": "policy<br>%{a:.3f}, %{b:.3f}, %{c:.3f}<extra></extra>",
            "marker": {"size": 16, "color": colour, "line": {"width": 1.5, "color": _POLICY_OUTLINE}},
        },
        {
            "type": "scatterternary",
            "mode": "lines",
            **_ternary(tail),
            "name": "recent path",
            "showlegend": False,
            "line": {"color": colour, "width": 3},
        },
    ]


def _extra_path_traces(extra_paths: Mapping[str, np.ndarray]) -> list[dict[str, object]]:
    """Fixed paths: the average iterate dashed in the policy's colour, other runs in their role's colour."""
    traces: list[dict[str, object]] = []
    for (name, other), style in zip(extra_paths.items(), series_styles(list(extra_paths)), strict=True):
        averaged = "average" in name
        line = {"color": role("policy").colour if averaged else style.colour, "width": 2 if averaged else 1.5}
        if averaged or style.dash != "solid":
            line["dash"] = "dash" if averaged else style.dash
        traces.append(
            {
                "type": "scatterternary",
                "mode": "lines",
                **_ternary(np.asarray(other)),
                "name": escape(name),
                "hoverinfo": "skip",
                "line": line,
            }
        )
    return traces


def simplex_animation(
    labels: Sequence[str],
    path: np.ndarray,
    queries: Sequence[int],
    markers: Mapping[str, np.ndarray],
    field: tuple[np.ndarray, np.ndarray] | None = None,
    title: str = "Policy trajectory on the simplex",
    extra_paths: Mapping[str, np.ndarray] | None = None,
) -> FigureSpec:
    """A policy moving on the ternary simplex of 3 responses (figure dict with frames).

    Args:
        labels: The 3 response names (corners).
        path: ``(R, 3)`` policies, one per frame, recorded after ``queries[r]`` preference queries.
        queries: ``R`` query counts (the slider's labels).
        markers: Fixed named policies (Nash, regularized Nash, reference, RLHF…), in their role's style.
        field: ``(points, moved)``: one solver step from each grid point, drawn as arrows (:func:`field_trace`).
        title: Figure title.
        extra_paths: Further fixed paths: an average iterate (dashed, the policy's colour) or parametric
            runs (their role's colour).

    Returns:
        A figure dict; the two moving traces come first and each frame carries only them.
    """
    names = escape_all(labels)
    path = np.asarray(path, dtype=float)
    data = _moving_traces(path, 0)
    data.append(
        {
            "type": "scatterternary",
            "mode": "lines",
            **_ternary(path),
            "name": "trajectory",
            "hoverinfo": "skip",
            "line": {"color": role("policy").colour, "width": 1.5},
            "opacity": 0.4,
        }
    )
    data += _extra_path_traces(extra_paths or {})
    if field is not None:
        data.append(field_trace(*field))
    data += marker_traces(markers)
    frame_names = [str(k) for k in range(len(path))]
    layout = {
        **_ternary_layout(names, title, height=640, bottom=120),
        "legend": {"orientation": "v", "x": 1.0, "y": 1.0, "xanchor": "left"},
        **play_controls(frame_names, [str(int(q)) for q in queries]),
    }
    frames = [{"name": frame_names[k], "data": _moving_traces(path, k), "traces": [0, 1]} for k in range(len(path))]
    return {"data": data, "layout": layout, "frames": frames}


def ternary_paths(
    labels: Sequence[str],
    paths: Mapping[str, np.ndarray],
    markers: Mapping[str, np.ndarray],
    title: str = "Answer distributions on the simplex",
) -> FigureSpec:
    """Static ternary plot: named paths ``(R, 3)`` (a dot at their last point) and named fixed markers.

    Args:
        labels: The 3 response names (corners).
        paths: Named ``(R, 3)`` paths, each in its role's colour.
        markers: Named fixed policies, in their role's colour and symbol.
        title: Figure title.

    Returns:
        A figure dict.
    """
    data: list[dict[str, object]] = []
    for (name, path), style in zip(paths.items(), series_styles(list(paths)), strict=True):
        pts = np.atleast_2d(np.asarray(path, dtype=float))
        data.append(
            {
                "type": "scatterternary",
                "mode": "lines+markers",
                **_ternary(pts),
                "name": escape(name),
                "line": {"color": style.colour, "width": 2, "dash": style.dash},
                "marker": {"size": [4] * (len(pts) - 1) + [12], "color": style.colour},
            }
        )
    data += marker_traces(markers, size=14)
    layout = {
        **_ternary_layout(escape_all(labels), title, height=440, bottom=40),
        "legend": {"orientation": "h", "y": -0.1},
    }
    return {"data": data, "layout": layout}
