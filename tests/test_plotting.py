"""Figure builders put the given numbers where they belong (and animate in the browser)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from nlhf_core.algorithms.field import simplex_grid
from nlhf_core.viz import (
    LOG_FLOOR,
    bar_animation,
    convergence_figure,
    policy_heatmap,
    preference_heatmap,
    race_figure,
    simplex_animation,
    sweep_heatmap,
    win_rate_heatmap,
)

PATH = np.array([[1 / 3, 1 / 3, 1 / 3], [0.2, 0.5, 0.3], [0.1, 0.6, 0.3]])


def test_simplex_animation_maps_every_point_and_frame():
    points = simplex_grid(5)
    spec = simplex_animation(
        ["r", "p", "s"],
        PATH,
        [0, 10, 20],
        {"Nash": np.array([0.0625, 0.625, 0.3125])},
        field=(points, points),
        extra_paths={"average iterate": PATH},
    )
    go.Figure(spec)  # a valid Plotly figure
    assert [t["name"] for t in spec["data"][:2]] == ["policy", "recent path"]  # moving traces first
    assert len(spec["frames"]) == 3 and all(f["traces"] == [0, 1] for f in spec["frames"])
    last = spec["frames"][-1]["data"][0]
    assert (last["a"], last["b"], last["c"]) == ([0.1], [0.6], [0.3])
    nash = next(t for t in spec["data"] if t.get("name") == "Nash")
    assert (nash["a"][0], nash["b"][0], nash["c"][0]) == (0.0625, 0.625, 0.3125)
    steps = spec["layout"]["sliders"][0]["steps"]
    assert [s["label"] for s in steps] == ["0", "10", "20"]
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["redraw"] is True
    assert any(t.get("name") == "average iterate" for t in spec["data"])
    assert spec["layout"]["ternary"]["aaxis"]["title"]["text"] == "r"


def test_bar_animation_and_policy_heatmap():
    labels = ["a", "b", "c"]
    spec = bar_animation(labels, PATH, [0, 1, 2], {"Nash": PATH[-1]})
    go.Figure(spec)
    assert spec["frames"][1]["data"][0]["y"] == [0.2, 0.5, 0.3]
    heat = policy_heatmap(labels, PATH, [0, 1, 2])
    np.testing.assert_allclose(np.array(heat.data[0].z), PATH.T)


def test_log_curves_hide_non_positive_values_and_floor_tiny_ones():
    fig = convergence_figure([0, 1, 2, 3], {"kl": np.array([1.0, 0.0, 1e-30, np.inf])}, bound=("b", np.ones(4)))
    assert list(fig.data[0].y) == [1.0, None, LOG_FLOOR, None]
    assert fig.layout.yaxis.type == "log" and fig.data[1].line.dash == "dash"
    race = race_figure({"x": ([0, 5], np.array([0.5, 0.25]))}, "exploitability")
    assert list(race.data[0].x) == [0, 5] and list(race.data[0].y) == [0.5, 0.25]


def test_heatmaps_carry_the_values():
    P = np.array([[0.5, 0.3], [0.7, 0.5]])
    np.testing.assert_array_equal(np.array(preference_heatmap(["a", "b"], P).data[0].z), P)
    W = win_rate_heatmap(["Nash", "RLHF"], np.array([[0.5, 0.55], [0.45, 0.5]]))
    assert W.data[0].z[0][1] == 0.55
    grid = np.array([[1e-3, np.nan], [0.1, 1.0]])
    sweep = sweep_heatmap([0.1, 1.0], [0.01, 0.1], grid, "exploitability")
    assert sweep.data[0].z[0][0] == pytest.approx(-3.0) and sweep.data[0].z[0][1] is None
    assert sweep.data[0].text[0][1] == "invalid"


def test_extra_paths_keep_their_styles_and_points():
    path = np.array([[1 / 3, 1 / 3, 1 / 3], [0.2, 0.5, 0.3]])
    pg = np.array([[1 / 3, 1 / 3, 1 / 3], [0.25, 0.45, 0.3], [0.1, 0.6, 0.3]])
    fig = simplex_animation(("a", "b", "c"), path, [0, 1], {}, extra_paths={"average iterate": path, "PG": pg})
    traces = {t.get("name"): t for t in fig["data"]}
    assert traces["average iterate"]["line"]["dash"] == "dash"
    assert traces["PG"]["line"]["color"] == "#2ca02c" and "dash" not in traces["PG"]["line"]
    np.testing.assert_allclose(traces["PG"]["a"], pg[:, 0])
    np.testing.assert_allclose(traces["PG"]["c"], pg[:, 2])


def test_lm_lab_figures_carry_the_data():
    from nlhf_core.viz import metric_lines, ternary_paths

    fig = metric_lines({"a": ([1, 2], [0.5, 0.25]), "b<i>": ([1], [1e-3])}, "KL", log=True, colours={"a": "#000000"})
    assert fig["data"][0]["x"] == [1.0, 2.0] and fig["data"][0]["line"]["color"] == "#000000"
    assert fig["data"][1]["name"] == "b&lt;i&gt;" and fig["layout"]["yaxis"]["type"] == "log"
    path = np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]])
    tern = ternary_paths(["x", "y", "z"], {"nash-md-pg": path}, {"Reference": np.array([0.5, 0.25, 0.25])})
    assert tern["data"][0]["b"] == [0.3, 0.6] and tern["data"][0]["marker"]["size"][-1] == 12
    assert tern["data"][1]["a"] == [0.5] and tern["layout"]["ternary"]["caxis"]["title"]["text"] == "z"
    go.Figure(fig)  # the app sends these specs without re-validating them (app/charts.py)
    go.Figure(tern)
