"""The one win-rate heat map: values in place, readable text at any size, role colours on policy labels."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from nlhf_core.viz import interval_heatmap, policy_heatmap, preference_heatmap, role, win_rate_heatmap
from nlhf_core.viz.heatmaps import TEXT_LIMIT, cell_text_size
from nlhf_core.viz.palette import WIN_RATE_COLOURSCALE
from tests.helpers import random_matrix


def test_heatmaps_carry_the_values_at_full_precision():
    P = np.array([[0.5, 0.3], [0.7, 0.5]])
    np.testing.assert_array_equal(np.array(preference_heatmap(["a", "b"], P)["data"][0]["z"]), P)
    W = np.array([[0.5, 0.5 + 1e-12], [0.5 - 1e-12, 0.5]])
    z = np.array(win_rate_heatmap(["Nash", "RLHF"], W)["data"][0]["z"])
    np.testing.assert_array_equal(z + z.T, np.ones((2, 2)))  # W + Wᵀ = 1 survives the figure


def test_one_colour_scale_centred_on_one_half():
    for spec in (preference_heatmap(["a", "b"], np.eye(2)), win_rate_heatmap(["a", "b"], np.eye(2))):
        trace = spec["data"][0]
        assert (trace["zmin"], trace["zmax"]) == (0.0, 1.0)
        assert trace["colorscale"] == [[t, c] for t, c in WIN_RATE_COLOURSCALE]


def test_cell_text_uses_significant_digits():
    P = np.array([[0.5, 5e-33, 0.123456], [1 - 5e-33, 0.5, 0.25], [0.876544, 0.75, 0.5]])
    text = preference_heatmap(["a", "b", "c"], P)["data"][0]["text"]
    assert text[0] == ["0.5", "5e-33", "0.123"] and text[1][0] == "1"
    assert all(len(cell) <= 6 for row in text for cell in row)


@pytest.mark.parametrize("n", [3, 6, 8, 9, 12, 13, 30])
def test_text_shrinks_then_hides_as_responses_grow_and_hover_keeps_the_value(n):
    labels = [f"response {k}" for k in range(n)]
    trace = preference_heatmap(labels, random_matrix(n, n))["data"][0]
    assert "%{z" in trace["hovertemplate"]
    if n > TEXT_LIMIT:
        assert "text" not in trace and "texttemplate" not in trace
    else:
        size = trace["textfont"]["size"]
        assert size == cell_text_size(n) and 8 <= size <= 13
        assert size == 13 if n <= 6 else size < 13


def test_text_size_never_grows_with_more_rows():
    sizes = [cell_text_size(n) or 0 for n in range(1, 20)]
    assert all(a >= b for a, b in pairwise(sizes)) and sizes[-1] == 0


def test_policy_labels_carry_their_role_colour_and_responses_do_not():
    spec = win_rate_heatmap(["Nash", "best-of-4", "my policy"], np.full((3, 3), 0.5))
    ticks = spec["layout"]["xaxis"]["ticktext"]
    assert ticks[0] == f'<span style="color:{role("nash").colour}">●</span> Nash'
    assert role("best-of-n").colour in ticks[1] and ticks[2] == "my policy"
    assert spec["layout"]["xaxis"]["tickvals"] == ["Nash", "best-of-4", "my policy"]
    assert "ticktext" not in preference_heatmap(["Nash", "b"], np.full((2, 2), 0.5))["layout"]["xaxis"]


def test_interval_heatmap_hover_has_the_interval_and_count():
    P = np.array([[0.5, 0.3], [0.7, 0.5]])
    spec = interval_heatmap(["a", "b"], P, P - 0.1, P + 0.1, np.array([[0, 12], [12, 0]]))
    trace = spec["data"][0]
    assert trace["customdata"][0][1] == pytest.approx([0.2, 0.4, 12])
    assert "interval" in trace["hovertemplate"] and "comparisons" in trace["hovertemplate"]
    assert trace["text"][0][1] == "0.3"  # the cell keeps one value; the interval is in the hover


def test_win_rate_heatmap_writes_intervals_under_values():
    W = np.array([[0.5, 0.25], [0.75, 0.5]])
    trace = win_rate_heatmap(["a", "b"], W, lower=W - 0.05, upper=W + 0.05)["data"][0]
    assert trace["text"][0][1] == "0.25<br>[0.2, 0.3]"


def test_policy_heatmap_rows_are_responses_over_time():
    path = np.array([[0.2, 0.8], [0.6, 0.4]])
    spec = policy_heatmap(["a", "b"], path, [0, 5])
    np.testing.assert_allclose(np.array(spec["data"][0]["z"]), path.T)
    assert spec["data"][0]["x"] == [0, 5] and spec["layout"]["xaxis"]["title"]["text"] == "preference queries"
