"""Curves: log axis exactly when the data span decades, role colours, readable legend names."""

from __future__ import annotations

import numpy as np

from nlhf_core.viz import LOG_FLOOR, band_figure, convergence_figure, metric_label, metric_lines, race_figure, role


def test_log_curves_hide_non_positive_values_and_floor_tiny_ones():
    spec = convergence_figure([0, 1, 2, 3], {"kl": np.array([1.0, 0.0, 1e-30, np.inf])}, bound=("b", np.ones(4)))
    assert spec["data"][0]["y"] == [1.0, None, LOG_FLOOR, None]
    assert spec["layout"]["yaxis"]["type"] == "log" and spec["data"][1]["line"]["dash"] == "dash"


def test_the_axis_is_linear_when_the_data_do_not_span_decades():
    spec = race_figure({"Nash-MD": ([0, 5], np.array([0.5, 0.25]))}, "exploitability")
    assert spec["data"][0]["x"] == [0, 5] and spec["data"][0]["y"] == [0.5, 0.25]
    assert "type" not in spec["layout"]["yaxis"] and spec["layout"]["yaxis"]["title"]["text"] == "exploitability"
    wide = race_figure({"Nash-MD": ([0, 5], np.array([0.5, 1e-3]))}, "exploitability")
    assert wide["layout"]["yaxis"]["type"] == "log"
    assert wide["layout"]["yaxis"]["title"]["text"] == "exploitability (log scale)"


def test_linear_curves_keep_zero_and_negative_values():
    spec = convergence_figure([0, 1, 2], {"regularized_gap": np.array([0.2, 0.0, -0.1])})
    assert spec["data"][0]["y"] == [0.2, 0.0, -0.1] and spec["data"][0]["name"] == "regularized gap"


def test_the_bound_takes_the_colour_of_the_kl_curve_it_bounds():
    curves = {"exploitability": np.array([1.0, 0.1]), "kl_to_equilibrium": np.array([1.0, 0.01])}
    spec = convergence_figure([0, 1], curves, bound=("Theorem 1 bound", np.array([2.0, 1.0])))
    kl, bound = spec["data"][1], spec["data"][2]
    assert bound["line"]["color"] == kl["line"]["color"] != spec["data"][0]["line"]["color"]


def test_metric_keys_become_words_and_display_names_stay():
    assert metric_label("kl_to_equilibrium") == "KL to equilibrium"
    assert metric_label("KL to regularized Nash (τ = 0.1)") == "KL to regularized Nash (τ = 0.1)"


def test_race_colours_are_the_solvers():
    spec = race_figure({"Nash-MD": ([0], np.ones(1)), "Fictitious play": ([0], np.ones(1))}, "exploitability")
    assert [t["line"]["color"] for t in spec["data"]] == [role("nash-md").colour, role("fictitious-play").colour]


def test_band_figure_fills_mean_plus_minus_std_in_the_role_colour():
    spec = band_figure(
        [10, 100], {"rlhf exploitability": np.array([0.5, 0.3])}, {"rlhf exploitability": np.full(2, 0.1)}, "e"
    )
    band, line = spec["data"]
    assert band["y"] == [0.6, 0.4, 0.2, 0.4] and band["x"] == [10.0, 100.0, 100.0, 10.0]
    r, g, b = (int(role("rlhf").colour[k : k + 2], 16) for k in (1, 3, 5))
    assert band["fillcolor"] == f"rgba({r},{g},{b},0.18)" and line["line"]["color"] == role("rlhf").colour
    assert spec["layout"]["xaxis"]["type"] == "log"


def test_metric_lines_carry_the_data():
    fig = metric_lines({"a": ([1, 2], [0.5, 0.25]), "b<i>": ([1], [1e-3])}, "KL", log=True, colours={"a": "#000000"})
    assert fig["data"][0]["x"] == [1.0, 2.0] and fig["data"][0]["line"]["color"] == "#000000"
    assert fig["data"][1]["name"] == "b&lt;i&gt;" and fig["layout"]["yaxis"]["type"] == "log"
    stages = metric_lines({"sft": ([1], [1.0]), "rlhf": ([1], [2.0])}, "loss")
    assert [t["line"]["color"] for t in stages["data"]] == [role("reference").colour, role("rlhf").colour]
    assert metric_lines({}, "loss")["data"] == []
