"""The simplex figures put every policy where it belongs, animate in the browser, and draw arrows with heads."""

from __future__ import annotations

import numpy as np

from nlhf_core.algorithms.field import simplex_grid
from nlhf_core.viz import role, simplex_animation, ternary_paths
from nlhf_core.viz.palette import FIELD_COLOUR
from nlhf_core.viz.simplex import field_trace

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


def test_extra_paths_keep_their_points_and_take_their_role_colour():
    path = np.array([[1 / 3, 1 / 3, 1 / 3], [0.2, 0.5, 0.3]])
    pg = np.array([[1 / 3, 1 / 3, 1 / 3], [0.25, 0.45, 0.3], [0.1, 0.6, 0.3]])
    fig = simplex_animation(
        ("a", "b", "c"), path, [0, 1], {}, extra_paths={"average iterate": path, "Nash-MD-PG (sampled)": pg}
    )
    traces = {t.get("name"): t for t in fig["data"]}
    average = traces["average iterate"]["line"]
    assert average["dash"] == "dash" and average["color"] == role("policy").colour  # the same run, averaged
    assert traces["Nash-MD-PG (sampled)"]["line"]["color"] == role("nash-md").colour
    assert "dash" not in traces["Nash-MD-PG (sampled)"]["line"]
    np.testing.assert_allclose(traces["Nash-MD-PG (sampled)"]["a"], pg[:, 0])
    np.testing.assert_allclose(traces["Nash-MD-PG (sampled)"]["c"], pg[:, 2])


def test_update_field_arrows_point_from_each_policy_towards_its_update_and_have_heads():
    points = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    moved = np.array([[0.3, 0.3, 0.4], [0.6, 0.1, 0.3]])
    trace = field_trace(points, moved)
    assert trace["mode"] == "lines+markers" and trace["name"] == "update field"
    assert trace["marker"]["symbol"] == "arrow" and trace["marker"]["angleref"] == "previous"
    assert trace["marker"]["size"] == [0, 9, 0, 0, 9, 0]  # a head at each tip only
    assert trace["line"]["color"] == FIELD_COLOUR == trace["marker"]["color"]
    for k in range(2):
        start = np.array([trace[c][3 * k] for c in "abc"])
        tip = np.array([trace[c][3 * k + 1] for c in "abc"])
        np.testing.assert_allclose(start, points[k])
        direction = moved[k] - points[k]
        np.testing.assert_allclose(tip - start, direction * 0.06 / 0.1, atol=1e-5)  # longest step is 0.1
        assert trace["a"][3 * k + 2] is None  # segments are separate


def test_field_colour_reads_on_light_and_dark_backgrounds():
    r, g, b, alpha = (float(v) for v in FIELD_COLOUR[5:-1].split(","))
    assert r == g == b and 100 <= r <= 150 and alpha >= 0.85  # a mid grey, nearly opaque


def test_ternary_paths_carry_the_data():
    path = np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]])
    tern = ternary_paths(["x", "y", "z"], {"nash-md-pg": path}, {"Reference": np.array([0.5, 0.25, 0.25])})
    assert tern["data"][0]["b"] == [0.3, 0.6] and tern["data"][0]["marker"]["size"][-1] == 12
    assert tern["data"][0]["line"]["color"] == role("nash-md").colour
    assert tern["data"][1]["a"] == [0.5] and tern["layout"]["ternary"]["caxis"]["title"]["text"] == "z"
    assert tern["data"][1]["marker"]["symbol"] == role("reference").marker
