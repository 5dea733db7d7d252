"""Figures: every Plotly figure, the one palette and the report figures (the only layer that imports Plotly).

Builders take numbers computed (and tested) elsewhere and return Plotly figure dicts:
:mod:`~nlhf_core.viz.simplex` (the policy on the simplex, the update field), :mod:`~nlhf_core.viz.bars`
(policies, rewards, the bar animation), :mod:`~nlhf_core.viz.heatmaps` (every ``P(row ≻ column)``
table, the policy over time), :mod:`~nlhf_core.viz.curves` (convergence, race, bands, training lines),
:mod:`~nlhf_core.viz.sweeps`, :mod:`~nlhf_core.viz.training` and :mod:`~nlhf_core.viz.study` (the LM
reports); :mod:`~nlhf_core.viz.palette` gives every role one colour and marker, and
:mod:`~nlhf_core.viz.export` hands figures to renderers (PNG size, HTML pages).
"""

from nlhf_core.viz.bars import bar_animation, policy_bars, rewards_bar
from nlhf_core.viz.curves import band_figure, convergence_figure, metric_label, metric_lines, race_figure
from nlhf_core.viz.export import CheckedFigure, checked_figure, export_config, figures_html
from nlhf_core.viz.heatmaps import (
    WinRatePanel,
    interval_heatmap,
    policy_heatmap,
    preference_heatmap,
    win_rate_heatmap,
    win_rate_panels,
)
from nlhf_core.viz.layout import LOG_FLOOR, FigureSpec
from nlhf_core.viz.palette import MARKER_SYMBOLS, POLICY_COLOURS, Role, colour_of, marker_of, role, role_of
from nlhf_core.viz.simplex import simplex_animation, ternary_paths
from nlhf_core.viz.study import (
    beta_curve_figure,
    study_heatmap,
    study_heatmap_html,
    study_heatmap_svg,
    table_heatmap,
)
from nlhf_core.viz.sweeps import sweep_heatmap
from nlhf_core.viz.training import answer_distributions, training_curves, training_report_html

__all__ = [
    "LOG_FLOOR",
    "MARKER_SYMBOLS",
    "POLICY_COLOURS",
    "CheckedFigure",
    "FigureSpec",
    "Role",
    "WinRatePanel",
    "answer_distributions",
    "band_figure",
    "bar_animation",
    "beta_curve_figure",
    "checked_figure",
    "colour_of",
    "convergence_figure",
    "export_config",
    "figures_html",
    "interval_heatmap",
    "marker_of",
    "metric_label",
    "metric_lines",
    "policy_bars",
    "policy_heatmap",
    "preference_heatmap",
    "race_figure",
    "rewards_bar",
    "role",
    "role_of",
    "simplex_animation",
    "study_heatmap",
    "study_heatmap_html",
    "study_heatmap_svg",
    "sweep_heatmap",
    "table_heatmap",
    "ternary_paths",
    "training_curves",
    "training_report_html",
    "win_rate_heatmap",
    "win_rate_panels",
]
