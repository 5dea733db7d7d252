"""Every page of the app with `streamlit.testing.v1.AppTest`: what it shows comes from the core."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nlhf_core.algorithms import get_algorithm, list_solvers, run_algorithm
from nlhf_core.baselines.comparison import compare_solutions
from nlhf_core.equilibria import nash_equilibrium
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.links import game_to_link
from nlhf_core.games.presets import get_preset

from .app_helpers import DISPLAY, figures, fresh, shown, ternary_point, trace

PAGES = [
    "app_pages/playground.py",
    "app_pages/nlhf_vs_rlhf.py",
    "app_pages/race.py",
    "app_pages/sweeps.py",
    "app_pages/learn.py",
]


@pytest.fixture
def app() -> AppTest:
    return fresh()


# ---------------------------------------------------------------------- every page loads
@pytest.mark.parametrize("page", PAGES)
def test_every_page_loads_without_exception(app, page):
    app.switch_page(page).run()
    assert not app.exception and not app.error, page
    if page != "app_pages/learn.py":
        assert len(figures(app)) >= 1


# ---------------------------------------------------------------------- playground
def test_playground_shows_the_first_preset_and_its_equilibria(app):
    game = get_preset("biased-cycle")
    trajectory, convergence = figures(app)[:2]
    np.testing.assert_allclose(ternary_point(trajectory, "Nash"), [1 / 16, 10 / 16, 5 / 16], **DISPLAY)
    assert len(trajectory["frames"]) >= 100  # the animation has frames
    expected = run_algorithm("nash-md", game, iterations=2000, record_every=10)
    final = trajectory["frames"][-1]["data"][0]
    np.testing.assert_allclose([final["a"][0], final["b"][0], final["c"][0]], expected.final_policy[0], **DISPLAY)
    assert {t["name"] for t in convergence["data"]} >= {"exploitability", "regularized gap", "KL to equilibrium"}
    assert game.story in [i.value for i in app.info]


def test_matrix_edit_sets_the_mirror_cell_and_moves_the_equilibrium(app):
    app.session_state["matrix-editor-0-0"] = {"edited_rows": {0: {"paper": 0.2}}, "added_rows": [], "deleted_rows": []}
    app.run()
    assert not app.exception and not app.error
    edited = PreferenceGame.from_matrix([[0.5, 0.2, 0.9], [0.8, 0.5, 0.46], [0.1, 0.54, 0.5]])
    np.testing.assert_allclose(ternary_point(figures(app)[0], "Nash"), nash_equilibrium(edited).policy, **DISPLAY)
    assert app.session_state["custom"] is True
    assert "game" in app.query_params


def test_invalid_edit_shows_the_sentence_and_keeps_the_last_valid_game(app):
    app.session_state["matrix-editor-0-0"] = {"edited_rows": {0: {"paper": 1.5}}, "added_rows": [], "deleted_rows": []}
    app.run()
    assert not app.exception
    assert any("Cell (rock, paper) is 1.5, outside [0, 1]" in text for text in shown(app.error))
    np.testing.assert_allclose(ternary_point(figures(app)[0], "Nash"), [1 / 16, 10 / 16, 5 / 16], **DISPLAY)
    assert app.session_state["custom"] is False


def test_algorithm_and_parameters_change_the_run(app):
    app.selectbox(key="alg").set_value("mwu").run()
    assert not app.exception
    convergence = figures(app)[1]
    assert "regularized gap" not in {t["name"] for t in convergence["data"]}  # MWU has no tau
    app.selectbox(key="alg").set_value("nash-md").run()
    app.selectbox(key="schedule").set_value("theorem").run()
    names = {t["name"] for t in figures(app)[1]["data"]}
    assert any(n.startswith("Theorem 1 bound") for n in names)


def test_add_rename_remove_responses(app):
    app.text_input(key="new-label").set_value("lizard")
    app.button(key="add-response").click().run()
    assert not app.exception
    assert app.session_state["custom"] and len(figures(app)) == 3  # n = 4: bars, heat map, convergence
    app.selectbox(key="rename-which").set_value("lizard")
    app.text_input(key="rename-to").set_value("rock")
    app.button(key="rename-response").click().run()
    assert any("appears twice" in text for text in shown(app.error))
    app.selectbox(key="remove-which").set_value("lizard")
    app.button(key="remove-response").click().run()
    assert not app.exception and len(figures(app)) == 2


def test_more_than_three_responses_use_bars_and_a_heatmap():
    at = fresh({"preset": "random-preferences"})
    kinds = [f["data"][0]["type"] for f in figures(at)]
    assert kinds[:2] == ["bar", "heatmap"] and len(figures(at)[0]["frames"]) > 50


def test_contextual_game_shows_the_chosen_prompt():
    at = fresh({"preset": "two-prompts", "ctx": "state a fact"})
    np.testing.assert_allclose(ternary_point(figures(at)[0], "Nash"), [1, 0, 0], **DISPLAY)


def test_reference_editor_normalizes_and_is_used(app):
    key = "ref-editor-0"
    app.session_state[key] = {"edited_rows": {0: {"weight": 2.0}}, "added_rows": [], "deleted_rows": []}
    app.run()
    assert not app.exception
    np.testing.assert_allclose([float(x) for x in app.session_state["ref_text"].split(",")], [0.75, 0.125, 0.125])
    np.testing.assert_allclose(ternary_point(figures(app)[0], "Reference"), [0.75, 0.125, 0.125], **DISPLAY)


def test_shared_link_restores_a_custom_game_and_settings():
    game = PreferenceGame.from_upper_triangle([0.2, 0.8, 0.35], ["x", "y", "z"])
    at = fresh({"game": game_to_link(game), "ref": "0.5,0.25,0.25"})  # bound widgets: see the browser test
    fig = figures(at)[0]
    np.testing.assert_allclose(ternary_point(fig, "Nash"), nash_equilibrium(game).policy, **DISPLAY)
    np.testing.assert_allclose(ternary_point(fig, "Reference"), [0.5, 0.25, 0.25], **DISPLAY)


def test_damaged_link_falls_back_with_a_notice():
    at = fresh({"game": "not-a-game", "ref": "1,2"})
    notices = shown(at.warning)
    assert any("damaged or incomplete" in n for n in notices)
    assert len(figures(at)) == 2


def test_invalid_parameters_show_the_core_sentence(app):
    app.select_slider(key="eta").set_value(50.0).run()
    assert not app.exception
    assert any("eta × tau = 5 exceeds 1" in text for text in shown(app.error))


def test_sampled_feedback_runs(app):
    app.select_slider(key="samples").set_value(10).run()
    assert not app.exception and len(figures(app)) == 2


# ---------------------------------------------------------------------- other pages
def test_nlhf_vs_rlhf_shows_the_core_comparison():
    at = fresh({"preset": "condorcet-winner"})
    at.switch_page("app_pages/nlhf_vs_rlhf.py").run()
    assert not at.exception
    expected = compare_solutions(get_preset("condorcet-winner"), 0.1, solvers=[])
    assert "beats RLHF 54.97% of the time" in shown(at.success)[0] and "54.97%" in expected.verdict()
    rewards = figures(at)[0]["data"][0]["y"]
    np.testing.assert_allclose(rewards, expected.rlhf.fit.scores[0], **DISPLAY)
    heat = next(f for f in figures(at) if f["data"][0]["type"] == "heatmap" and "RLHF" in f["data"][0]["x"])
    np.testing.assert_allclose(heat["data"][0]["z"], expected.win_rates, **DISPLAY)


def test_sampling_control_changes_the_reward():
    at = fresh({"preset": "paper-three-annotators", "ref": "0.6,0.2,0.2"})
    at.switch_page("app_pages/nlhf_vs_rlhf.py").run()
    uniform = figures(at)[0]["data"][0]["y"]
    at.radio(key="sampling").set_value("reference").run()
    skewed = figures(at)[0]["data"][0]["y"]
    assert np.argmax(uniform) == 0 and np.argmax(skewed) == 1


def test_race_runs_each_solver_on_the_same_query_budget(app):
    app.switch_page("app_pages/race.py").run()
    app.multiselect(key="racers").set_value(["nash-mp", "omd"]).run()
    assert not app.exception
    fig = figures(app)[0]
    ends = {t["name"]: max(t["x"]) for t in fig["data"]}
    assert len(set(ends.values())) == 1  # same budget, whatever the queries per iteration
    table = app.dataframe[0].value
    assert list(table["solver"]) == ["Nash mirror prox (Nash-MP)", "Online mirror descent (INPO)"]


def test_sweeps_heatmap_and_solver_without_tau(app):
    app.switch_page("app_pages/sweeps.py").run()
    grid = figures(app)[0]["data"][0]
    assert len(grid["x"]) == 12 and len(grid["y"]) == 12
    app.selectbox(key="sw_alg").set_value("mwu").run()
    assert not app.exception and len(figures(app)[0]["data"][0]["y"]) == 12  # a line over the 12 step sizes


def test_a_rerun_keeps_the_sessions_game_whatever_the_url_says(app):
    """Only opening a link (first run, Back/Forward, the tour) reads the URL: a rerun that still carries
    another game's parameters (a browser that has not caught up) keeps the session's game."""
    app.query_params["preset"] = "rock-paper-scissors"
    app.query_params["init"] = "0.6,0.3,0.1"
    app.run()
    assert not app.exception
    assert app.session_state["preset"] == "biased-cycle" and app.session_state["init_text"] == "reference"
    np.testing.assert_allclose(ternary_point(figures(app)[0], "Nash"), [1 / 16, 10 / 16, 5 / 16], **DISPLAY)


def test_feedback_lab_shows_the_core_pipeline():
    at = fresh({"preset": "condorcet-paradox"})
    at.switch_page("app_pages/feedback_lab.py").run()
    assert not at.exception and not at.error
    from nlhf_core.feedback.pipeline import run_pipeline

    expected = run_pipeline(get_preset("condorcet-paradox"), 1000, tau=0.1, seed=0)
    deployed = next(f for f in figures(at) if any("NLHF (regularized" in t.get("name", "") for t in f["data"]))
    np.testing.assert_allclose(deployed["data"][0]["y"], expected.nlhf_policy[0], **DISPLAY)
    np.testing.assert_allclose(deployed["data"][1]["y"], expected.rlhf_policy[0], **DISPLAY)
    assert any("**preference model** predicts new comparisons better" in m.value for m in at.markdown)
    at.select_slider(key="fb_n").set_value(100).run()
    assert not at.exception
    assert any("100 comparisons" in c.value for c in at.caption)


# ---------------------------------------------------------------------- parametric overlay (issue 6)
def test_policy_gradient_overlay_matches_the_core(app):
    from nlhf_core.algorithms import get_algorithm
    from nlhf_core.policy_gradient import train_policy_gradient

    app.toggle(key="pg-on").set_value(True).run()
    assert not app.exception, app.exception
    tau = get_algorithm("nash-md").param("tau").default
    expected = train_policy_gradient(get_preset("biased-cycle"), "nash-md-pg", tau=tau, record_every=1000 // 120)
    path = trace(figures(app)[0], "Nash-MD-PG (sampled)")
    np.testing.assert_allclose([path["a"][-1], path["b"][-1], path["c"][-1]], expected.final_policy[0], **DISPLAY)
    assert len(path["a"]) == len(expected.trajectory.steps)
    curves = {t["name"] for t in figures(app)[2]["data"]}
    assert {"KL to target", "KL to equilibrium", "win rate vs rlhf"} - curves == {"win rate vs rlhf"}
    table = app.dataframe[-1].value
    shown = dict(zip(table["metric"], table["final value"], strict=True))
    for k, v in expected.final_metrics().items():
        assert shown[k.replace("_", " ")] == pytest.approx(v, rel=1e-9), k
    app.selectbox(key="pg-algo").set_value("self-play").run()
    assert not app.exception
    assert "Self-play PG (online IPO) (sampled)" in {t.get("name") for t in figures(app)[0]["data"]}


# ---------------------------------------------------------------------- every solver on every page that takes one
SOLVERS = [s.name for s in list_solvers()]
#: Presets with 3, 4 and 9 responses: the simplex view, bars, and a larger game.
SIZED_PRESETS = ["biased-cycle", "clone-rps", "random-tournament"]


@pytest.mark.parametrize("preset", SIZED_PRESETS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_playground_runs_every_registered_solver(preset, solver):
    """Choosing any solver shows its trajectory and convergence, never a traceback; the chart is its run."""
    at = fresh({"preset": preset, "alg": solver, "iters": "200"})
    assert not at.exception and not at.error, (preset, solver)
    assert at.selectbox(key="alg").value == solver
    game = get_preset(preset)
    spec = get_algorithm(solver)
    params = {p.name: at.session_state[p.name] for p in spec.params}
    expected = run_algorithm(solver, game, iterations=200, record_every=2, **params).last_policies[-1, 0]
    trajectory, *rest = figures(at)
    final = trajectory["frames"][-1]["data"][0]
    shown_policy = [final["a"][0], final["b"][0], final["c"][0]] if game.n == 3 else final["y"]
    np.testing.assert_allclose(shown_policy, expected, **DISPLAY)
    assert rest[-1]["data"], "the convergence chart has curves"


def test_playground_best_response_field_keeps_its_shape():
    """best-response on a 3-response game draws its update field: every start moves to the one best response."""
    at = fresh({"preset": "biased-cycle", "alg": "best-response"})
    assert not at.exception
    field = trace(figures(at)[0], "update field")
    assert field["a"], "the update field is drawn"


def test_nash_ema_beta_slider_is_linear_and_in_range():
    """nash-ema's beta starts at 0: its slider offers even steps in [0, 0.9999], not a log scale."""
    at = fresh({"alg": "nash-ema"})
    assert not at.exception
    slider = at.select_slider(key="beta")
    options = [float(o) for o in slider.options]
    spec = get_algorithm("nash-ema").param("beta")
    assert min(options) == spec.low and max(options) <= spec.high
    assert float(slider.value) == spec.default
    assert np.allclose(np.diff(options[:-1])[:5], options[1] - options[0])


@pytest.mark.parametrize("preset", SIZED_PRESETS)
def test_race_runs_every_registered_solver(preset):
    at = fresh({"preset": preset})
    at.switch_page("app_pages/race.py").run()
    at.multiselect(key="racers").set_value(SOLVERS).run()
    assert not at.exception and not at.error, preset
    titles = {get_algorithm(name).title for name in SOLVERS}
    assert set(at.dataframe[0].value["solver"]) == titles
    assert {t["name"] for t in figures(at)[0]["data"]} <= titles


SWEEPABLE = [s.name for s in list_solvers() if {"eta", "tau"} & {p.name for p in s.params}]


@pytest.mark.parametrize("preset", SIZED_PRESETS)
@pytest.mark.parametrize("solver", SWEEPABLE)
def test_sweeps_runs_every_solver_it_offers(preset, solver):
    at = fresh({"preset": preset})
    at.switch_page("app_pages/sweeps.py").run()
    at.selectbox(key="sw_alg").set_value(solver).run()
    assert not at.exception and not at.error, (preset, solver)
    assert figures(at)


@pytest.mark.parametrize("preset", SIZED_PRESETS)
def test_policy_gradient_overlay_runs_every_registered_method(preset):
    """The Playground's parametric panel offers every policy-gradient method of the registry; each one draws its
    sampled path over the exact trajectory, on games of 3, 4 and 9 responses."""
    from nlhf_core.policy_gradient.registry import pg_algorithms

    at = fresh({"preset": preset, "iters": "200"})
    at.toggle(key="pg-on").set_value(True).run()
    for method in pg_algorithms():
        at.selectbox(key="pg-algo").set_value(method.name).run()
        assert not at.exception and not at.error, (preset, method.name)
        names = {t.get("name") for fig in figures(at) for t in fig["data"]}
        assert "KL to target" in names, (preset, method.name)  # the parametric run's own convergence curves
        if get_preset(preset).n == 3:  # its sampled path is drawn over the exact one on the simplex
            assert f"{method.title} (sampled)" in names, (preset, method.name)
