"""End-to-end tests in a real headless Chromium against `streamlit run app/serve.py` (what `make app` runs).

Timings (server start to first chart, matrix edit to updated chart) are measured and written to
test-artifacts/timings.json; they are reported, not asserted.
"""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest

from nlhf_core.equilibria import nash_equilibrium
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.links import game_to_link
from tests.browser_helpers import (  # noqa: F401 (the fixtures register by name)
    ARTIFACTS,
    CHROMIUM_ARGS,
    EXCEPTION,
    PLOTLY,
    TIMINGS,
    app_url_fixture,
    browser_fixture,
    choose,
    context_fixture,
    edit_matrix_cell,
    nash_marker,
    open_page,
    plot_value,
    screenshot,
    wait_idle,
)

pytestmark = pytest.mark.browser
PAGES = {
    "playground": "",
    "lm-lab": "lm-lab",
    "nlhf-vs-rlhf": "nlhf-vs-rlhf",
    "feedback-lab": "feedback",
    "paper-comparison": "paper-comparison",
    "race": "race",
    "sweeps": "sweeps",
    "learn": "learn",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_without_exception(context, app_url, name):
    page = open_page(context, f"{app_url}/{PAGES[name]}")
    if name == "lm-lab":
        page.get_by_role("button", name="Start training").wait_for()
    elif name != "learn":
        page.wait_for_selector(PLOTLY, timeout=60_000)
        assert page.locator(PLOTLY).count() >= 1
    else:
        assert page.get_by_text("6. Self-play cycles").count() == 1
        page.get_by_role("link", name="Show me").nth(5).wait_for()
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, name)


def test_matrix_edit_changes_the_plotted_equilibrium(context, app_url):
    page = open_page(context, app_url)
    page.wait_for_selector(PLOTLY)
    np.testing.assert_allclose(nash_marker(page), [1 / 16, 10 / 16, 5 / 16], rtol=1e-6, atol=1e-9)
    seconds = edit_matrix_cell(page, row=0, col=1, n=3, value="0.2", current=0.3)
    TIMINGS["edit to updated chart, n=3, 2000 iterations (s)"] = seconds
    edited = PreferenceGame.from_matrix([[0.5, 0.2, 0.9], [0.8, 0.5, 0.46], [0.1, 0.54, 0.5]])
    np.testing.assert_allclose(nash_marker(page), nash_equilibrium(edited).policy, rtol=1e-6, atol=1e-9)
    page.wait_for_function("() => window.location.search.includes('game=')", timeout=30_000)  # end of the run
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "playground-edited")


def test_invalid_edit_is_explained_and_kept(context, app_url):
    page = open_page(context, app_url)
    page.wait_for_selector(PLOTLY)
    edit_matrix_cell(page, row=0, col=1, n=3, value="1.5", expect_change=False, current=0.3)
    page.get_by_text("outside [0, 1]").first.wait_for(timeout=30_000)
    np.testing.assert_allclose(nash_marker(page), [1 / 16, 10 / 16, 5 / 16], rtol=1e-6, atol=1e-9)  # last valid game


def test_ten_responses_edit_timing(context, app_url):
    rng = np.random.default_rng(10)
    game = PreferenceGame.from_upper_triangle(np.round(rng.uniform(0.05, 0.95, 45), 3).tolist())
    start = time.perf_counter()
    page = open_page(context, f"{app_url}/?game={game_to_link(game)}&iters=2000")
    page.wait_for_selector(PLOTLY)
    TIMINGS["page load to charts, n=10 (s)"] = time.perf_counter() - start
    before = plot_value(page, 1, "z")  # the policy-over-time heat map
    cell = float(game.matrix[0, 1])
    seconds = edit_matrix_cell(page, row=0, col=1, n=10, value="0.99", probe=(1, "z"), before=before, current=cell)
    TIMINGS["edit to updated chart, n=10, 2000 iterations (s)"] = seconds
    assert page.locator(EXCEPTION).count() == 0


def test_shared_url_restores_the_state_in_a_fresh_browser(browser, context, app_url):
    page = open_page(context, app_url)
    page.wait_for_selector(PLOTLY)
    edit_matrix_cell(page, row=0, col=2, n=3, value="0.7", current=0.9)
    choose(page, "Algorithm", "nash-mp")
    wait_idle(page)
    page.wait_for_function("() => window.location.search.includes('alg=nash-mp')", timeout=30_000)
    shared, marker = page.url, nash_marker(page)
    assert "alg=nash-mp" in shared and "game=" in shared
    other = browser.new_context(viewport={"width": 1400, "height": 2000})
    try:
        fresh = open_page(other, shared)
        fresh.wait_for_selector(PLOTLY)
        np.testing.assert_allclose(nash_marker(fresh), marker, rtol=1e-6, atol=1e-9)
        assert fresh.get_by_text("Nash mirror prox (Nash-MP)").count() >= 1  # the chosen solver's caption
        final = fresh.evaluate("() => document.querySelectorAll('.js-plotly-plot')[0]._transitionData._frames.length")
        assert final > 100
    finally:
        other.close()


def test_animation_has_frames_and_plays_in_the_browser(context, app_url):
    page = open_page(context, app_url)
    page.wait_for_selector(PLOTLY)
    frames = page.evaluate("() => document.querySelectorAll('.js-plotly-plot')[0]._transitionData._frames.length")
    assert frames > 100
    start = plot_value(page, 0, "a")
    page.get_by_text("▶ Play").first.click()
    page.wait_for_function(
        f"() => document.querySelectorAll('.js-plotly-plot')[0].data[0].a[0] !== {start[0]}", timeout=20_000
    )


def test_learn_tour_opens_the_playground_set_up(context, app_url):
    page = open_page(context, f"{app_url}/learn")
    page.get_by_role("link", name="Show me").nth(5).click()
    page.get_by_text("Learn tour, step 6 of 6").wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_selector(PLOTLY)
    assert page.get_by_text("Self-play multiplicative weights").count() >= 1
    assert page.locator(EXCEPTION).count() == 0


def test_a_broken_upload_is_refused_politely(context, app_url, tmp_path):
    page = open_page(context, app_url)
    page.wait_for_selector(PLOTLY)
    bad = tmp_path / "broken.csv"
    bad.write_text(",a,b\na,0.5,0.3\nb,0.6,0.5\n")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(bad))
    page.get_by_text("add up to 0.9, not 1").first.wait_for(timeout=30_000)
    assert page.get_by_text("The previous game is still in use").count() >= 1
    np.testing.assert_allclose(nash_marker(page), [1 / 16, 10 / 16, 5 / 16], rtol=1e-6, atol=1e-9)
    good = tmp_path / "mine.json"
    good.write_text(json.dumps({"labels": ["x", "y", "z"], "upper_triangle": [0.2, 0.8, 0.35]}))
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(good))
    page.wait_for_function("() => window.location.search.includes('game=')", timeout=30_000)
    wait_idle(page)
    game = PreferenceGame.from_upper_triangle([0.2, 0.8, 0.35], ["x", "y", "z"])
    page.wait_for_function(
        f"() => Math.abs(document.querySelectorAll('.js-plotly-plot')[0].data.find(d => d.name === 'Nash').a[0]"
        f" - {nash_equilibrium(game).policy[0]}) < 1e-6",
        timeout=30_000,
    )
    assert page.locator(EXCEPTION).count() == 0


def test_policy_gradient_overlay_draws_the_sampled_path(context, app_url):
    page = open_page(context, app_url)
    page.wait_for_selector(PLOTLY)
    page.get_by_text("Parametric run (policy gradient)").click()
    page.get_by_text("Overlay a policy-gradient run").click()
    page.get_by_text("Parametric run: Nash-MD-PG").wait_for(timeout=90_000)
    find = (
        "() => { const gd = document.querySelectorAll('.js-plotly-plot')[0];"
        " const t = gd && gd.data && gd.data.find(d => d.name === 'Nash-MD-PG (sampled)');"
        " if (!t) return null; const k = t.a.length - 1; return [t.a[k], t.b[k], t.c[k]]; }"
    )
    page.wait_for_function(find, timeout=60_000)
    wait_idle(page, timeout=90_000)
    last = page.evaluate(find)
    assert abs(sum(last) - 1.0) < 1e-6 and min(last) > 0
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "playground-policy-gradient")
    screenshot(page, "policy-gradient-simplex", element=PLOTLY)


def test_concurrent_sessions_never_see_each_others_games(browser, context, app_url, tmp_path):
    """Two people on one server: one edits and uploads, the other keeps the preset; neither sees the other's game."""
    alice = open_page(context, app_url)
    other = browser.new_context(viewport={"width": 1400, "height": 2000})
    try:
        bob = open_page(other, app_url)
        alice.wait_for_selector(PLOTLY)
        bob.wait_for_selector(PLOTLY)
        edit_matrix_cell(alice, row=0, col=1, n=3, value="0.2", current=0.3)
        upload = tmp_path / "bobs.json"
        upload.write_text(json.dumps({"labels": ["x", "y", "z"], "upper_triangle": [0.2, 0.8, 0.35]}))
        bob.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(upload))
        bob.wait_for_function("() => window.location.search.includes('game=')", timeout=30_000)
        wait_idle(bob)
        wait_idle(alice)
        edited = PreferenceGame.from_matrix([[0.5, 0.2, 0.9], [0.8, 0.5, 0.46], [0.1, 0.54, 0.5]])
        bobs = PreferenceGame.from_upper_triangle([0.2, 0.8, 0.35], ["x", "y", "z"])
        np.testing.assert_allclose(nash_marker(alice), nash_equilibrium(edited).policy, rtol=1e-6, atol=1e-9)
        bob.wait_for_function(
            f"() => Math.abs(document.querySelectorAll('.js-plotly-plot')[0].data.find(d => d.name === 'Nash').a[0]"
            f" - {nash_equilibrium(bobs).policy[0]}) < 1e-6",
            timeout=30_000,
        )
        alice.reload()
        wait_idle(alice, timeout=90_000)
        alice.wait_for_selector(PLOTLY)
        np.testing.assert_allclose(nash_marker(alice), nash_equilibrium(edited).policy, rtol=1e-6, atol=1e-9)
        carol = open_page(context, app_url)  # a third, fresh session still starts from the preset
        carol.wait_for_selector(PLOTLY)
        np.testing.assert_allclose(nash_marker(carol), [1 / 16, 10 / 16, 5 / 16], rtol=1e-6, atol=1e-9)
        assert alice.locator(EXCEPTION).count() == bob.locator(EXCEPTION).count() == 0
    finally:
        other.close()


def test_labels_are_shown_as_text_never_as_html(context, app_url):
    labels = ["<b>bold</b>", "<img src=x onerror=window.pwned=1>", "$x$ [a](javascript:alert(1))"]
    game = PreferenceGame.from_upper_triangle([0.3, 0.9, 0.46], labels).with_meta(story="**not bold** <i>x</i>")
    page = open_page(context, f"{app_url}/?game={game_to_link(game)}")
    page.wait_for_selector(PLOTLY)
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("img[src=x]").count() == 0
    assert page.locator(".js-plotly-plot svg text").filter(has_text="<b>bold</b>").count() >= 1
    assert page.get_by_text("**not bold** <i>x</i>").count() >= 1
    assert page.locator(EXCEPTION).count() == 0


#: Points drawn in the LM lab's first chart (the loss curves); 0 while the fragment is redrawing it.
LOSS_POINTS = (
    "() => { const p = document.querySelectorAll('.js-plotly-plot')[0];"
    " return p && p.data ? p.data.reduce((n, t) => n + ((t.x && t.x.length) || 0), 0) : 0; }"
)


def test_lm_lab_trains_live_cancels_and_finishes(context, app_url):
    page = open_page(context, f"{app_url}/lm-lab")
    page.get_by_text("A preset").click()
    page.get_by_role("button", name="Start training").click()
    page.wait_for_function(f"() => ({LOSS_POINTS})() >= 2", timeout=90_000)
    first = page.evaluate(LOSS_POINTS)
    page.wait_for_function(f"(n) => ({LOSS_POINTS})() > n", arg=max(first, 2), timeout=90_000)  # grows, no click
    screenshot(page, "lm-lab-training")
    page.get_by_role("button", name="Cancel training").click()
    page.get_by_text("Stopped at stage").wait_for(timeout=90_000)
    assert page.locator(EXCEPTION).count() == 0
    page.get_by_role("button", name="Resume training").click()  # the stopped run continues from its checkpoint
    page.get_by_text("Finished.").wait_for(timeout=300_000)
    page.get_by_text("Head to head under the true preferences").first.wait_for(timeout=30_000)
    # the one-sentence verdict: who beats whom, on which answers, and SFT
    page.get_by_text("trained policy beats SFT").or_(page.get_by_text("SFT beats or ties")).first.wait_for()
    # the run directory is zipped after the verdict and the heatmap are drawn (models/ makes it take a moment)
    page.get_by_role("button", name="Run directory (zip)").wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Run directory (zip)").count() == 1
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "lm-lab-finished")


def run_in_thread(coroutine_function):
    """``asyncio.run`` in a worker thread (Playwright's sync API owns this thread's event loop)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function())).result()


def test_concurrent_websocket_sessions_get_their_own_answers(app_url):
    """The load test's protocol sessions (as a classroom's server sees them): concurrent edits, each checked."""
    import argparse
    import asyncio
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("loadtest", Path(__file__).parents[1] / "scripts" / "loadtest.py")
    loadtest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loadtest)
    args = argparse.Namespace(sessions=4, edits=2, think=0.2, ramp=0.4, timeout=60.0)
    out = {"server_first_run": [], "server_edit": [], "server_switch": [], "errors": [], "charts_checked": 0}

    async def classroom():
        await asyncio.gather(*(loadtest.protocol_student(k, app_url, args, out) for k in range(args.sessions)))

    run_in_thread(classroom)
    assert out["errors"] == []
    assert out["charts_checked"] == 8 and len(out["server_switch"]) == 4  # each edit's chart is its own game's Nash


def test_hostile_editor_states_get_a_sentence_not_a_traceback(app_url):
    """A crafted websocket message with edits no grid can produce is refused politely."""
    from tests.protocol_client import ProtocolSession

    async def hostile():
        async with ProtocolSession(app_url, timeout=60) as session:
            first = await session.open()
            shown = []
            for column, value in [("paper", "abc"), ("paper", None), ("paper", float("nan")), ("nobody", 0.2)]:
                run = await session.edit_cell(first, 0, column, value)
                assert run.exceptions() == []
                shown.append(run.nash_marker())
            alerts = [e.alert.body for e in run.elements if e.WhichOneof("type") == "alert"]
            return first.nash_marker(), shown, alerts

    before, shown, alerts = run_in_thread(hostile)
    assert all(marker == before for marker in shown)  # the last valid game stays in use
    assert any("did not fit the matrix" in alert for alert in alerts)


def test_lm_lab_run_trains_on_while_the_tab_shows_other_pages(context, app_url):
    """The job belongs to the session, not to the page: a minute and more on the Playground does not stop it."""
    page = open_page(context, f"{app_url}/lm-lab")
    page.get_by_text("A preset").click()
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Training — stage").wait_for(timeout=90_000)
    page.get_by_role("link", name="Playground").first.click()
    page.wait_for_selector(PLOTLY, timeout=90_000)
    page.wait_for_timeout(75_000)  # longer than the old page watchdog's 60 s
    page.get_by_role("link", name="LM lab").first.click()
    page.get_by_text("Training — stage").or_(page.get_by_text("Finished.")).first.wait_for(timeout=90_000)
    assert page.get_by_text("Stopped at stage").count() == 0
    assert page.locator(EXCEPTION).count() == 0
    cancel = page.get_by_role("button", name="Cancel training")
    if cancel.is_enabled():  # leave the server free for the next test
        cancel.click()


def _exact_curve(page) -> tuple[list[float], list[float]]:
    """(betas, win rates vs RLHF) of the beta curve's exact line, read from the browser."""
    return page.evaluate(
        "() => { for (const gd of document.querySelectorAll('.js-plotly-plot')) {"
        " const t = (gd.data || []).find(d => d.name === 'vs rlhf (exact)'); if (t) return [t.x, t.y]; } return null; }"
    )


def test_paper_comparison_page_draws_the_exact_curve_and_redraws_on_a_new_reference(context, app_url):
    """The Paper's comparison page: the beta curve is the core's exact curve, the table and bars are drawn, and a new
    SFT reference redraws the curve with the core's values for it."""
    from nlhf_core.games.presets import get_preset
    from nlhf_core.study import beta_curve, preset_study, tabular_settings

    page = open_page(context, f"{app_url}/paper-comparison?pc_pairs=0")
    page.wait_for_selector(PLOTLY, timeout=90_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".some(gd => (gd.data || []).some(d => d.name === 'vs rlhf (exact)'))",
        timeout=90_000,
    )
    assert page.locator(PLOTLY).count() >= 3 and page.locator(EXCEPTION).count() == 0
    game, found = get_preset("paper-comparison"), preset_study("paper-comparison")
    defaults = found.settings

    def expected(mu: list[float]) -> np.ndarray:
        settings = tabular_settings(
            game, mu, tau=defaults["policy.tau"], rlhf_tau=defaults["rlhf.tau"], betas=(0.5,), pairs=0, seeds=()
        )
        betas, _ = _exact_curve(page)
        return beta_curve(settings, betas).exact_vs_rlhf

    _, before = _exact_curve(page)
    np.testing.assert_allclose(before, expected(list(defaults["sft.answer_weights"])), rtol=1e-6, atol=1e-9)
    screenshot(page, "paper-comparison")
    box = page.get_by_label(re.compile("SFT reference μ"))
    box.fill("0.25, 0.25, 0.25, 0.25")
    box.press("Enter")
    page.wait_for_function(
        "(old) => { for (const gd of document.querySelectorAll('.js-plotly-plot')) {"
        " const t = (gd.data || []).find(d => d.name === 'vs rlhf (exact)');"
        " if (t) return JSON.stringify(t.y) !== JSON.stringify(old); } return false; }",
        arg=before,
        timeout=90_000,
    )
    wait_idle(page, 90_000)
    _, after = _exact_curve(page)
    np.testing.assert_allclose(after, expected([0.25] * 4), rtol=1e-6, atol=1e-9)
    assert page.locator(EXCEPTION).count() == 0


_LAST_FRAME = (
    "() => { const gd = document.querySelectorAll('.js-plotly-plot')[0]; const f = gd._transitionData._frames;"
    " const d = f[f.length - 1].data[0]; return d.a ? [d.a[0], d.b[0], d.c[0]] : d.y; }"
)


@pytest.mark.parametrize("preset", ["biased-cycle", "clone-rps", "random-tournament"])  # 3, 4 and 9 responses
def test_every_registered_solver_runs_on_the_playground(context, app_url, preset):
    """Each solver chosen in the Algorithm box draws its trajectory (a policy on the simplex) and its convergence."""
    from nlhf_core.algorithms import list_solvers
    from nlhf_core.games.presets import get_preset

    page = open_page(context, f"{app_url}/?preset={preset}&iters=200")
    page.wait_for_selector(PLOTLY, timeout=60_000)
    n = get_preset(preset).n
    for spec in list_solvers():
        choose(page, "Algorithm", spec.name)
        page.get_by_text(spec.title).first.wait_for(timeout=60_000)
        wait_idle(page, 60_000)
        assert page.locator(EXCEPTION).count() == 0, (preset, spec.name)
        assert page.locator(PLOTLY).count() >= 2, (preset, spec.name)
        final = np.asarray(page.evaluate(_LAST_FRAME), dtype=float)
        assert final.shape == (n,) and np.all(final >= -1e-9), (preset, spec.name)
        assert abs(final.sum() - 1.0) < 1e-6, (preset, spec.name)
