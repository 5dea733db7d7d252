"""The session keeps its game (issue 18 item 2) and the Learn tour opens each step as written (issue 15)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import numpy as np
import pytest

from app import tour
from app.state import LINK_LIMIT_CHARS, fingerprint
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.links import game_to_link
from nlhf_core.games.policies import policy_from_text
from nlhf_core.games.presets import get_preset

from .app_helpers import DISPLAY, figures, fresh, link_query, shared_link, shown, trace

PLAYGROUND = "app_pages/playground.py"


@pytest.fixture
def app():
    return fresh()


def upload(at, name: str, game_json: dict) -> None:
    at.sidebar.file_uploader(key="upload").upload(name, json.dumps(game_json).encode(), "application/json").run()


def scores(n: int) -> list[float]:
    return np.round(np.linspace(-3.0, 3.0, n), 4).tolist()


# ---------------------------------------------------------------------- the game lives in the session
def test_fingerprint_is_stable_and_sees_every_cell():
    game = get_preset("biased-cycle")
    same = PreferenceGame.from_matrix(game.matrix, game.labels, name=game.name, story=game.story)
    assert fingerprint(game) == fingerprint(same) == fingerprint(game)
    for i, j in [(0, 1), (2, 0)]:
        P = game.matrix.copy()
        P[i, j], P[j, i] = P[i, j] + 1e-12, P[j, i] - 1e-12
        assert fingerprint(PreferenceGame.from_matrix(P, game.labels, name=game.name, story=game.story)) != (
            fingerprint(game)
        )
    assert fingerprint(game.with_meta(name="other")) != fingerprint(game)


@pytest.mark.parametrize(("n", "page"), [(300, PLAYGROUND), (1000, "app_pages/learn.py")])
def test_a_game_too_large_for_a_link_is_kept_and_shared_as_a_file(n, page):
    """(A 1,000-response game's solvers take a minute on 2 cores: here it is loaded on a page without them.)"""
    at = fresh()
    at.switch_page(page).run()
    upload(at, "big.json", {"bradley_terry_scores": scores(n)})
    assert not at.exception and not at.warning, shown(at.warning)
    game = at.session_state["game"]
    assert game.n == n and at.session_state["custom"]
    assert any(f"uploaded file **big.json** ({n} responses)" in c for c in shown(at.sidebar.caption))
    assert any("too large for a link; download it" in i.value for i in at.sidebar.info)
    assert "game" not in at.query_params and not at.sidebar.code  # no link that cannot be opened
    for _ in range(2):  # reruns, pages and the picker all keep working
        at.run()
        assert not at.exception and at.session_state["game"].n == n
    at.switch_page("app_pages/lm_lab.py").run()
    assert not at.exception and at.session_state["game"].n == n
    at.sidebar.selectbox(key="preset").set_value("rock-paper-scissors").run()
    assert not at.exception and at.session_state["game"].n == 3 and shared_link(at)


def test_a_game_that_fits_a_link_is_shared_by_link():
    game = PreferenceGame.from_bradley_terry(scores(40))
    assert len(game_to_link(game)) <= LINK_LIMIT_CHARS
    at = fresh()
    upload(at, "mid.json", {"bradley_terry_scores": scores(40)})
    shown_game = at.session_state["game"]
    np.testing.assert_allclose(shown_game.matrix, game.matrix, rtol=0, atol=1e-15)
    assert not at.exception and f"game={game_to_link(shown_game)}" in shared_link(at)
    assert at.query_params["game"] == game_to_link(shown_game)


def test_a_link_that_cannot_be_read_keeps_the_last_good_game_on_every_rerun():
    at = fresh({"game": "x" * 250_000, "preset": "rock-paper-scissors"})  # larger than any link
    assert any("larger than a link can carry" in n for n in shown(at.warning))
    assert at.session_state["game"].labels == get_preset("rock-paper-scissors").labels
    for _ in range(2):
        at.run()
        assert not at.exception
    at.switch_page("app_pages/race.py").run()
    assert not at.exception and figures(at)


def test_cached_results_follow_the_game_not_its_link():
    """Two sessions on the same game share cached results; a different game never gets them."""
    a = fresh({"preset": "rock-paper-scissors"})
    b = fresh({"preset": "biased-cycle"})
    assert a.session_state["game_fp"] != b.session_state["game_fp"]
    nash_a = trace(figures(a)[0], "Nash")
    nash_b = trace(figures(b)[0], "Nash")
    assert nash_a["a"] != nash_b["a"]
    np.testing.assert_allclose([nash_b["a"][0], nash_b["b"][0], nash_b["c"][0]], [1 / 16, 10 / 16, 5 / 16], **DISPLAY)


# ---------------------------------------------------------------------- the Learn tour in one session
def check_step(at, index: int) -> None:
    step = tour.STEPS[index]
    assert not at.exception and not at.error, (index, at.exception)
    assert at.session_state["preset"] == step["preset"] and not at.session_state["custom"]
    for key, value in step["settings"].items():
        assert at.session_state[key] == value, (index, key)
    assert any(f"step {index + 1} of {len(tour.STEPS)}" in m.value for m in at.markdown)
    if step["page"] != PLAYGROUND:
        assert at.title[0].value == "NLHF vs RLHF"
        return
    assert at.title[0].value == "Playground"
    assert at.session_state["iters"] == 2000 and at.session_state["samples"] == "exact"  # the defaults
    game = get_preset(step["preset"])
    start = policy_from_text(step.get("init", "uniform"), game.labels)
    first = figures(at)[0]["frames"][0]["data"][0]
    np.testing.assert_allclose([first["a"][0], first["b"][0], first["c"][0]], start, **DISPLAY)
    bound = [t["name"] for t in figures(at)[1]["data"] if t["name"].startswith("Theorem 1 bound")]
    assert bool(bound) == (step["settings"].get("schedule") == "theorem"), index


def click_link(at, label: str, page: str, nth: int = 0) -> None:
    """Follow the ``nth`` page link labelled ``label`` as a browser does: its page, its query only."""
    link = [e for e in at.get("page_link") if e.proto.label == label][nth]
    at.query_params = {k: v[0] for k, v in parse_qs(link.proto.query_string).items()}
    at.switch_page(page).run()


def test_learn_tour_walked_in_one_session_opens_each_step_as_written():
    at = fresh()
    at.switch_page("app_pages/learn.py").run()
    click_link(at, "Show me", tour.STEPS[0]["page"])
    check_step(at, 0)
    for index in range(1, len(tour.STEPS)):
        if at.title[0].value == "Playground":  # what a reader does between steps must not leak into the next
            at.select_slider(key="iters").set_value(500).run()
            at.selectbox(key="alg").set_value("omd").run()
        click_link(at, "Next step", tour.STEPS[index]["page"])
        check_step(at, index)
        at.run()  # a rerun that still carries the link's parameter does not open the step again
        assert not at.exception
    assert "Next step" not in [e.proto.label for e in at.get("page_link")]  # the last step has no next step
    at.select_slider(key="iters").set_value(500).run()
    assert at.session_state["iters"] == 500
    at.switch_page("app_pages/learn.py").run()
    click_link(at, "Show me", tour.STEPS[4]["page"], nth=4)  # a step opened again from the Learn page
    check_step(at, 4)


# ---------------------------------------------------------------------- the sidebar and the game editor
def game_in_use(at) -> str:
    return next(c for c in shown(at.sidebar.caption) if c.startswith("Game in use"))


def test_sidebar_names_the_game_in_use_and_presets_show_their_description(app):
    assert game_in_use(app) == "Game in use: preset **biased-cycle** (3 responses)."
    assert all(" — " in option for option in app.sidebar.selectbox(key="preset").options)
    assert "rock-paper-scissors — Rock blunts scissors" in " ".join(app.sidebar.selectbox(key="preset").options)
    assert get_preset("biased-cycle").story in [i.value for i in app.info]
    app.session_state["matrix-editor-0-0"] = {"edited_rows": {0: {"paper": 0.2}}, "added_rows": [], "deleted_rows": []}
    app.run()
    assert game_in_use(app) == "Game in use: preset **biased-cycle**, edited (3 responses)."
    assert get_preset("biased-cycle").story not in [i.value for i in app.info]  # it described the original
    assert any("its story" in c and "is hidden" in c for c in shown(app.caption))
    upload(app, "mine.json", {"labels": ["x", "y", "z"], "upper_triangle": [0.2, 0.8, 0.35]})
    assert game_in_use(app) == "Game in use: the uploaded file **mine.json** (3 responses)."


def test_a_stale_error_goes_when_the_cell_is_valid_again(app):
    key = "matrix-editor-0-0"
    app.session_state[key] = {"edited_rows": {0: {"paper": 1.5}}, "added_rows": [], "deleted_rows": []}
    app.run()
    assert any("outside [0, 1]" in e for e in shown(app.error))
    app.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}  # typed back to 0.3
    app.run()
    assert not app.error and not app.session_state["custom"]
    app.session_state[key] = {"edited_rows": {0: {"paper": 1.5}}, "added_rows": [], "deleted_rows": []}
    app.run()
    app.session_state[key] = {"edited_rows": {0: {"paper": 0.25}}, "added_rows": [], "deleted_rows": []}
    app.run()
    assert not app.error and app.session_state["game"].matrix[0, 1] == 0.25


def test_adding_clears_the_box_and_removing_stops_at_two(app):
    app.text_input(key="new-label").set_value("lizard")
    app.button(key="add-response").click().run()
    assert app.session_state["game"].n == 4 and app.text_input(key="new-label").value == ""
    for gone in ("lizard", "rock"):
        app.selectbox(key="remove-which").set_value(gone)
        app.button(key="remove-response").click().run()
        assert not app.exception
    assert app.session_state["game"].labels == ("paper", "scissors")
    remove = app.button(key="remove-response")
    assert remove.disabled and "at least 2 responses" in remove.help


def test_start_over_forgets_the_session():
    at = fresh({"preset": "two-prompts", "alg": "mwu", "iters": "500"})
    at.text_input(key="new-label").set_value("lizard")
    at.button(key="add-response").click().run()
    click_link(at, "Start over", PLAYGROUND)
    assert not at.exception
    assert at.session_state["preset"] == "biased-cycle" and not at.session_state["custom"]
    assert at.session_state["alg"] == "nash-md" and at.session_state["iters"] == 2000
    assert set(at.query_params) <= {"do"} and at.title[0].value == "Playground"
    assert not {"preset", "game", "init"} & set(link_query(shared_link(at)))
