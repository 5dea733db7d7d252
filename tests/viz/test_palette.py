"""The one palette: distinct, readable colours; one colour per role in every figure that shows it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nlhf_core.algorithms import list_solvers
from nlhf_core.llm.config import METHODS
from nlhf_core.policy_gradient.registry import pg_algorithms
from nlhf_core.viz import role, role_of
from nlhf_core.viz.palette import (
    SOLVER_COLOURS,
    WIN_RATE_COLOURSCALE,
    all_roles,
    hex_to_rgb,
    series_styles,
    solver_roles,
    win_rate_colour,
)
from tests.viz.catalogue import BUILDERS

WHITE, STREAMLIT_DARK = "#ffffff", "#0e1117"


def _linear_rgb(colour: str) -> np.ndarray:
    rgb = np.array([int(colour[k : k + 2], 16) / 255 for k in (1, 3, 5)])
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def cielab(colour: str) -> np.ndarray:
    """CIELAB (D65) of an sRGB hex colour, from the CIE formulas."""
    M = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = M @ _linear_rgb(colour) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str) -> float:
    """CIE76 colour difference ΔE*ab."""
    return float(np.linalg.norm(cielab(a) - cielab(b)))


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours."""
    lum = [float(np.dot([0.2126, 0.7152, 0.0722], _linear_rgb(c))) for c in (a, b)]
    return (max(lum) + 0.05) / (min(lum) + 0.05)


def test_cielab_matches_known_values():
    np.testing.assert_allclose(cielab("#ffffff"), [100, 0, 0], atol=0.05)
    np.testing.assert_allclose(cielab("#ff0000"), [53.24, 80.09, 67.20], atol=0.1)
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)


def test_every_solver_has_its_own_colour_perceptually_apart():
    solvers = solver_roles()
    assert [r.key for r in solvers] == [s.name for s in list_solvers()]
    assert len(SOLVER_COLOURS) >= len(solvers), "extend SOLVER_COLOURS for the new solver"
    for a, b in itertools.combinations(solvers, 2):
        assert delta_e(a.colour, b.colour) > 20, (a.key, b.key)


def test_every_role_is_apart_from_every_other_and_readable_on_light_and_dark():
    roles = all_roles()
    assert len({r.key for r in roles}) == len(roles)
    for a, b in itertools.combinations(roles, 2):
        assert delta_e(a.colour, b.colour) > 20, (a.key, b.key)
    for r in roles:
        assert contrast(r.colour, WHITE) >= 2.5 and contrast(r.colour, STREAMLIT_DARK) >= 2.5, r.key


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Nash", "nash"),
        ("Nash of the true game", "nash"),
        ("regularized Nash (τ = 0.1)", "regularized-nash"),
        ("NLHF (regularized Nash of the fitted preferences)", "regularized-nash"),
        ("nlhf exploitability", "regularized-nash"),
        ("SFT (μ)", "reference"),
        ("Reference", "reference"),
        ("RLHF, uniform pairs", "rlhf"),
        ("best-of-4", "best-of-n"),
        ("reward model log-lik", "reward-model"),
        ("Nash-MD", "nash-md"),
        ("nash-md-pg(beta=0.125)", "nash-md"),
        ("Nash-MD-PG (sampled)", "nash-md"),
        ("Nash mirror prox (Nash-MP)", "nash-mp"),
        ("Self-play PG (online IPO) (sampled)", "mwu"),
        ("average iterate", "policy"),
    ],
)
def test_names_resolve_to_their_role(name, key):
    assert role_of(name).key == key


@pytest.mark.parametrize("name", ["exploitability", "KL to target", "uniform pairs", "regularized gap"])
def test_names_without_a_role(name):
    assert role_of(name) is None


def test_every_method_name_has_a_role():
    names = [*METHODS, "sft", "preference-model", "reward-model", "best response", *(s.name for s in pg_algorithms())]
    names += [s.name for s in list_solvers()] + [s.title for s in list_solvers()]
    names += [spec.title for spec in pg_algorithms()]
    assert all(role_of(n) is not None for n in names), [n for n in names if role_of(n) is None]


def test_a_repeated_role_keeps_its_colour_and_changes_its_dash_and_pattern():
    a, b, c = series_styles(["RLHF, uniform pairs", "RLHF, pairs from μ", "exploitability"])
    assert a.colour == b.colour == role("rlhf").colour
    assert (a.dash, a.pattern) == ("solid", "") and b.dash != "solid" and b.pattern
    assert c.colour not in {r.colour for r in all_roles()[:5]}


def _colours_of(spec: dict, name: str) -> set[str]:
    """Colours a figure gives ``name``: its traces' line/marker colour, or the dot of its axis label."""
    found = set()
    for trace in spec["data"]:
        if trace.get("name") == name:
            style = trace.get("marker", {}) if trace.get("mode", "markers") != "lines" else trace["line"]
            found.add(style.get("color"))
    for key, layout_axis in spec["layout"].items():
        if key.startswith(("xaxis", "yaxis")) and "ticktext" in layout_axis:
            for text in layout_axis["ticktext"]:
                if text.endswith(f"</span> {name}"):
                    found.add(text.split("color:")[1].split('"')[0])
    return found


@pytest.mark.parametrize(
    ("name", "builders"),
    [
        ("Nash", ["simplex_animation", "ternary_paths", "bar_animation", "policy_bars", "win_rate_heatmap"]),
        ("RLHF", ["simplex_animation", "ternary_paths", "bar_animation", "policy_bars", "win_rate_heatmap"]),
        ("nash-md-pg", ["ternary_paths", "metric_lines", "training_curves"]),
    ],
)
def test_a_role_has_one_colour_in_every_figure_that_shows_it(name, builders):
    per_figure = [_colours_of(BUILDERS[builder](), name) for builder in builders]
    assert all(per_figure), [b for b, c in zip(builders, per_figure, strict=True) if not c]  # each figure shows it
    assert set().union(*per_figure) == {role_of(name).colour}


def test_solvers_in_the_race_and_the_head_to_head_table_share_their_colour():
    race = BUILDERS["race_figure"]()
    nash_md = role("nash-md").colour
    assert next(t for t in race["data"] if t["name"] == "Nash-MD")["line"]["color"] == nash_md
    assert _colours_of(BUILDERS["win_rate_heatmap"](), "nash-md") == {nash_md}


def test_win_rate_colours_interpolate_the_scale():
    assert win_rate_colour(0.0) == WIN_RATE_COLOURSCALE[0][1]
    assert win_rate_colour(0.5) == WIN_RATE_COLOURSCALE[3][1]
    assert win_rate_colour(1.0) == win_rate_colour(7.0) == WIN_RATE_COLOURSCALE[-1][1]
    halfway = win_rate_colour(1 / 12)  # halfway between the first two stops
    expected = [round((a + b) / 2) for a, b in zip(hex_to_rgb("#b2182b"), hex_to_rgb("#ef8a62"), strict=True)]
    assert list(hex_to_rgb(halfway)) == expected
