"""Figures of the paper's comparison (issue 16) carry the given numbers, are valid Plotly, and keep colours;
a measured study.json is placed on the beta curve only when it studies the same game."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from nlhf_core.errors import ParameterError
from nlhf_core.games.presets import get_preset
from nlhf_core.study import measured_points, run_tabular_study, tabular_settings
from nlhf_core.viz import beta_curve_figure, colour_of, policy_bars, table_heatmap

BETAS = np.array([0.0, 0.5, 1.0])


def test_beta_curve_has_exact_lines_bands_and_measured_points():
    exact = {"rlhf": np.array([0.5, 0.58, 0.48]), "self-play": np.array([0.5, 0.53, 0.49])}
    bands = {"rlhf": (exact["rlhf"] - 0.01, exact["rlhf"] + 0.02)}
    points = [{"opponent": "rlhf", "beta": 0.5, "value": 0.6, "low": 0.55, "high": 0.66, "name": "LM <study>"}]
    spec = beta_curve_figure(BETAS, exact, bands, points)
    go.Figure(spec)  # valid Plotly
    band, line_r, line_s, dots = spec["data"]
    assert band["fill"] == "toself" and band["y"] == [0.52, 0.6, 0.5, 0.47, 0.57, 0.49]
    # The opponents keep their colours of every other figure: RLHF is RLHF, self-play is the self-play solver.
    assert line_r["y"] == [0.5, 0.58, 0.48] and line_r["line"]["color"] == colour_of("RLHF")
    assert line_s["line"]["color"] == colour_of("mwu") != colour_of("RLHF")
    assert dots["x"] == [0.5] and dots["y"] == [0.6] and dots["name"] == "LM &lt;study&gt;"
    assert dots["error_y"]["array"] == [pytest.approx(0.06)] and dots["error_y"]["arrayminus"] == [pytest.approx(0.05)]
    assert spec["layout"]["xaxis"]["title"]["text"].startswith("mixture coefficient β")
    assert spec["layout"]["yaxis"]["title"]["text"] == "win rate of Nash-MD-PG(β)"


def test_table_heatmap_writes_intervals_and_policy_bars_keep_method_colours():
    W = np.array([[0.5, 0.2], [0.8, 0.5]])
    spec = table_heatmap(["sft", "rlhf"], W, W - 0.01, W + 0.01)
    go.Figure(spec)
    cells = spec["data"][0]
    assert cells["z"] == [[0.5, 0.2], [0.8, 0.5]]
    assert cells["text"][1][0] == "0.8<br>[0.79, 0.81]" and cells["text"][0][0] == ""  # blank diagonal
    assert table_heatmap(["a", "b"], W)["data"][0]["text"][0][1] == "0.2"
    bars = policy_bars(
        ["x", "y"],
        {"sft": [0.3, 0.7], "nash-md-pg(beta=1)": [0.6, 0.4]},
        "What each method deploys",
        {"sft": ([0.2, 0.6], [0.4, 0.9])},
    )
    go.Figure(bars)
    assert bars["data"][0]["marker"]["color"] == colour_of("reference")  # SFT is the reference
    assert bars["data"][1]["marker"]["color"] == colour_of("nash-md")  # Nash-MD-PG keeps Nash-MD's colour
    assert bars["data"][0]["error_y"]["array"] == [pytest.approx(0.1), pytest.approx(0.2)]
    assert "error_y" not in bars["data"][1]


def test_measured_points_come_from_a_study_of_the_same_game(tmp_path):
    result = run_tabular_study(
        tabular_settings(get_preset("paper-comparison"), [0.05, 0.05, 0.7, 0.2], pairs=400, seeds=[0, 1])
    )
    data = result.to_json("preset:paper-comparison")
    points = measured_points(data, "preset:paper-comparison")
    by = {(p["method"], p["opponent"]): p for p in points}
    i, j = result.index("nash-md-pg(beta=0.5)"), result.index("rlhf")
    assert by["nash-md-pg(beta=0.5)", "rlhf"]["value"] == result.mean[i, j]
    assert by["nash-md-pg(beta=0.5)", "rlhf"]["low"] == result.low[i, j] and by["self-play", "rlhf"]["beta"] == 0.0
    assert ("self-play", "self-play") not in by and "tabular study" in points[0]["name"]
    with pytest.raises(ParameterError, match="was run on preset:paper-comparison, not on preset:two-prompts"):
        measured_points(data, "preset:two-prompts")
    with pytest.raises(ParameterError, match=r"not a study\.json"):
        measured_points([1, 2], "preset:paper-comparison")
    broken = {**data, "win_rates": [[0.5]]}
    with pytest.raises(ParameterError, match="'win_rates' is not a 7×7 table"):
        measured_points(broken, "preset:paper-comparison")
