"""One call of every public figure builder of ``nlhf_core.viz``, on small inputs that show every role."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nlhf_core.algorithms.field import simplex_grid
from nlhf_core.viz import (
    FigureSpec,
    answer_distributions,
    band_figure,
    bar_animation,
    beta_curve_figure,
    convergence_figure,
    interval_heatmap,
    metric_lines,
    policy_bars,
    policy_heatmap,
    preference_heatmap,
    race_figure,
    rewards_bar,
    simplex_animation,
    study_heatmap,
    sweep_heatmap,
    table_heatmap,
    ternary_paths,
    training_curves,
    win_rate_heatmap,
)

LABELS = ["rock", "paper", "scissors"]
PATH = np.array([[1 / 3, 1 / 3, 1 / 3], [0.2, 0.5, 0.3], [0.1, 0.6, 0.3]])
NASH = np.array([0.0625, 0.625, 0.3125])
MARKERS = {
    "Nash": NASH,
    "regularized Nash (τ = 0.1)": np.array([0.2, 0.5, 0.3]),
    "Reference": np.full(3, 1 / 3),
    "RLHF": np.array([0.5, 0.3, 0.2]),
}
P = np.array([[0.5, 0.2, 0.9], [0.8, 0.5, 0.3], [0.1, 0.7, 0.5]])
POLICY_NAMES = ["Nash", "regularized Nash", "RLHF", "reference", "nash-md"]
W = np.array(
    [
        [0.5, 0.6, 0.7, 0.55, 0.52],
        [0.4, 0.5, 0.6, 0.45, 0.42],
        [0.3, 0.4, 0.5, 0.35, 0.32],
        [0.45, 0.55, 0.65, 0.5, 0.47],
        [0.48, 0.58, 0.68, 0.53, 0.5],
    ]
)
STUDY = {
    "methods": ["sft", "rlhf", "nash-md-pg(beta=0.125)"],
    "seeds": [0, 1],
    "config": "smoke",
    "win_rates": [[0.5, 0.3, 0.2], [0.7, 0.5, 0.4], [0.8, 0.6, 0.5]],
    "win_rates_ci_low": [[0.5, 0.25, 0.15], [0.65, 0.5, 0.35], [0.75, 0.55, 0.5]],
    "win_rates_ci_high": [[0.5, 0.35, 0.25], [0.75, 0.5, 0.45], [0.85, 0.65, 0.5]],
    "win_rates_preference_model": [[0.5, 0.35, 0.2], [0.65, 0.5, 0.45], [0.8, 0.55, 0.5]],
    "win_rates_preference_model_ci_low": [[0.5, 0.3, 0.15], [0.6, 0.5, 0.4], [0.75, 0.5, 0.5]],
    "win_rates_preference_model_ci_high": [[0.5, 0.4, 0.25], [0.7, 0.5, 0.5], [0.85, 0.6, 0.5]],
}
RECORDS = [
    {"stage": m, "step": s, "loss": 1.0 / (s + 1), "win_vs_sft": 0.5 + s / 100, "kl_to_nash": 10.0 ** (-s)}
    for m in ("rlhf", "nash-md-pg")
    for s in range(4)
]
DISTRIBUTIONS = {
    "SFT (μ)": {"p1": {"a": 0.6, "b": 0.3, "c": 0.1}},
    "regularized Nash": {"p1": {"a": 0.2, "b": 0.5, "c": 0.3}},
    "nash-md-pg": {"p1": {"a": 0.25, "b": 0.45, "c": 0.3}},
}


def _simplex() -> FigureSpec:
    points = simplex_grid(5)
    moved = 0.9 * points + 0.1 * NASH
    return simplex_animation(
        LABELS, PATH, [0, 10, 20], MARKERS, field=(points, moved), extra_paths={"average iterate": PATH}
    )


#: Builder name → a function returning its figure.
BUILDERS: dict[str, Callable[[], FigureSpec]] = {
    "simplex_animation": _simplex,
    "ternary_paths": lambda: ternary_paths(LABELS, {"nash-md-pg": PATH, "rlhf": PATH[::-1]}, MARKERS),
    "bar_animation": lambda: bar_animation(LABELS, PATH, [0, 1, 2], MARKERS),
    "policy_bars": lambda: policy_bars(LABELS, MARKERS),
    "rewards_bar": lambda: rewards_bar(LABELS, np.array([-1.2, 0.3, 0.9]), errors=np.array([0.1, 0.2, 0.1])),
    "policy_heatmap": lambda: policy_heatmap(LABELS, PATH, [0, 1, 2]),
    "preference_heatmap": lambda: preference_heatmap(LABELS, P),
    "interval_heatmap": lambda: interval_heatmap(LABELS, P, P - 0.05, P + 0.05, np.full((3, 3), 7)),
    "win_rate_heatmap": lambda: win_rate_heatmap(POLICY_NAMES, W),
    "study_heatmap": lambda: study_heatmap(STUDY),
    "table_heatmap": lambda: table_heatmap(POLICY_NAMES, W, W - 0.02, W + 0.02),
    "beta_curve_figure": lambda: beta_curve_figure(
        [0.0, 0.5, 1.0],
        {"rlhf": np.array([0.5, 0.58, 0.48]), "self-play": np.array([0.5, 0.53, 0.49])},
        {"rlhf": (np.array([0.48, 0.55, 0.45]), np.array([0.52, 0.6, 0.5]))},
        [{"opponent": "rlhf", "beta": 0.5, "value": 0.6, "low": 0.55, "high": 0.66, "name": "LM study"}],
    ),
    "convergence_figure": lambda: convergence_figure(
        [0, 1, 2, 3], {"kl_to_equilibrium": np.array([1.0, 1e-2, 1e-4, 1e-6])}, bound=("bound", np.ones(4))
    ),
    "race_figure": lambda: race_figure(
        {"Nash-MD": ([0, 5], np.array([0.5, 1e-4])), "Fictitious play": ([0, 5], np.array([0.5, 0.1]))},
        "exploitability",
    ),
    "band_figure": lambda: band_figure(
        [30, 100, 300],
        {"nlhf exploitability": np.array([0.3, 0.2, 0.1]), "rlhf exploitability": np.array([0.4, 0.35, 0.3])},
        {"nlhf exploitability": np.full(3, 0.05), "rlhf exploitability": np.full(3, 0.05)},
        "true exploitability",
    ),
    "metric_lines": lambda: metric_lines({"sft": ([1, 2], [2.0, 1.0]), "nash-md-pg": ([1, 2], [1.5, 1.2])}, "loss"),
    "sweep_heatmap": lambda: sweep_heatmap([0.1, 1.0], [0.01, 0.1], np.array([[1e-3, np.nan], [0.1, 1.0]]), "kl"),
    "training_curves": lambda: training_curves(RECORDS, ["rlhf", "nash-md-pg"]),
    "answer_distributions": lambda: answer_distributions(DISTRIBUTIONS),
}
