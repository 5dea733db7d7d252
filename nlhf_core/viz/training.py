"""Figures of a language-model run's report: training curves and the exact answer distributions.

The trainer logs, per method and evaluation step, the training loss, the exact win rate against the
SFT model ``P(π ≻ SFT)`` and ``KL(π*_τ ‖ π)`` to the tabular regularized Nash equilibrium of the game
with the SFT model as reference (Munos et al. 2024, Section 3); the answer distributions are exact
(teacher forcing). Each method is drawn in its role's colour (``nash-md-pg`` as Nash-MD, ``sft`` as
the reference), the same as in the app.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nlhf_core.viz.export import figures_html
from nlhf_core.viz.layout import FigureSpec, axis, escape, figure_title, floats, log_values, spans_decades, value_axis
from nlhf_core.viz.palette import series_styles

#: ``(record key, panel title, y-axis title)`` of the three training panels.
PANELS = (
    ("loss", "training loss", "loss"),
    ("win_vs_sft", "win rate vs SFT (exact)", "P(policy ≻ SFT)"),
    ("kl_to_nash", "KL(regularized Nash ‖ policy)", "KL"),
)
_GAP = 0.08


def training_curves(records: Sequence[Mapping[str, Any]], methods: Sequence[str]) -> FigureSpec:
    """Three panels side by side: loss, win rate against SFT and KL to the regularized Nash, per method.

    A panel whose values span decades (typically the KL) has a log y axis.

    Args:
        records: The run's ``metrics.jsonl`` records (``stage``, ``step`` and the logged values).
        methods: The methods to draw (one colour each, one legend entry each).

    Returns:
        A figure dict with axes ``x``/``y``, ``x2``/``y2``, ``x3``/``y3``.
    """
    width = (1.0 - _GAP * (len(PANELS) - 1)) / len(PANELS)
    layout: dict[str, object] = {
        "title": figure_title("Training curves"),
        "height": 420,
        "margin": {"l": 10, "r": 10, "t": 90, "b": 10},
        "legend": {"orientation": "h", "y": -0.25},
    }
    annotations: list[dict[str, object]] = []
    data: list[dict[str, object]] = []
    for k, (key, panel_title, y_title) in enumerate(PANELS):
        suffix = "" if k == 0 else str(k + 1)
        left = k * (width + _GAP)
        layout[f"xaxis{suffix}"] = axis("step", domain=[left, left + width], anchor=f"y{suffix}")
        log = spans_decades([r[key] for r in records if r.get("stage") in methods and key in r])
        layout[f"yaxis{suffix}"] = value_axis(y_title, log, anchor=f"x{suffix}")
        annotations.append(
            {
                "text": panel_title,
                "x": left + width / 2,
                "y": 1.02,
                "xref": "paper",
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
            }
        )
        for method, style in zip(methods, series_styles(list(methods)), strict=True):
            rows = [r for r in records if r.get("stage") == method and key in r]
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": [float(r["step"]) for r in rows],
                    "y": log_values([r[key] for r in rows]) if log else floats([r[key] for r in rows]),
                    "name": escape(method),
                    "legendgroup": escape(method),
                    "showlegend": k == 0,
                    "line": {"color": style.colour, **({"dash": style.dash} if style.dash != "solid" else {})},
                    "xaxis": f"x{suffix}",
                    "yaxis": f"y{suffix}",
                }
            )
    layout["annotations"] = annotations
    return {"data": data, "layout": layout}


def answer_distributions(policies: Mapping[str, Mapping[str, Mapping[str, float]]]) -> FigureSpec:
    """Grouped bars: each policy's probability of every answer, grouped by prompt.

    Args:
        policies: Policy name → prompt → answer → probability.

    Returns:
        A figure dict with a two-level (prompt, answer) category axis and a probability axis.
    """
    data = []
    for (name, dist), style in zip(policies.items(), series_styles(list(policies)), strict=True):
        x = [[escape(p) for p in dist for _ in dist[p]], [escape(a) for p in dist for a in dist[p]]]
        marker = {"color": style.colour, **({"pattern": {"shape": style.pattern}} if style.pattern else {})}
        y = floats([v for p in dist for v in dist[p].values()])
        data.append({"type": "bar", "name": escape(name), "x": x, "y": y, "marker": marker})
    layout = {
        "title": figure_title("Answer distribution per prompt (exact)"),
        "barmode": "group",
        "height": 420,
        "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
        "xaxis": axis("prompt, answer", type="multicategory"),
        "yaxis": axis("probability", range=[0, 1]),
        "legend": {"orientation": "h", "y": -0.3},
    }
    return {"data": data, "layout": layout}


def training_report_html(records: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> str:
    """The ``figures.html`` page of a run: training curves of the trained methods and answer distributions.

    Args:
        records: The run's ``metrics.jsonl`` records.
        summary: The run's summary (``methods``, ``reference_distribution``, ``regularized_nash``,
            ``answer_distributions``).

    Returns:
        The page's HTML; plotly.js is expected beside it (``plotly.min.js``).
    """
    methods = [m for m in summary["methods"] if m != "sft"]
    policies = {
        "SFT (μ)": summary["reference_distribution"],
        "regularized Nash": summary["regularized_nash"],
        **{m: summary["answer_distributions"][m] for m in methods},
    }
    figures = [("training-curves", training_curves(records, methods)), ("answers", answer_distributions(policies))]
    return figures_html(figures, include_plotlyjs="directory")
