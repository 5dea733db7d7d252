"""One tab, many steps, in a real headless Chromium: the Learn tour, browser Back, a 1,000-response upload.

Issue 15 (the tour walked in one tab opens each step's solver, preset and start; Back undoes a preset
switch) and issue 18 item 2 (a valid game too large for a link keeps its session working).
"""

from __future__ import annotations

import base64
import json
import zlib
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from app import tour
from app.state import DEFAULT_PRESET
from nlhf_core.equilibria import nash_equilibrium
from nlhf_core.games.policies import policy_from_text
from nlhf_core.games.presets import get_preset

from .browser_helpers import (  # noqa: F401 (the fixtures register by name)
    EXCEPTION,
    OPTION,
    app_url_fixture,
    browser_fixture,
    choose,
    context_fixture,
    nash_marker,
    open_page,
    shared_link,
    wait_idle,
)
from .test_browser_links import settled

pytestmark = pytest.mark.browser
FIRST_FRAME = (
    "() => { const f = document.querySelectorAll('.js-plotly-plot')[0]._transitionData._frames[0].data[0];"
    " return [f.a[0], f.b[0], f.c[0]]; }"
)
CURVES = "() => document.querySelectorAll('.js-plotly-plot')[1].data.map(t => t.name)"


def check_step(page, index: int) -> None:
    step = tour.STEPS[index]
    page.get_by_text(f"Learn tour, step {index + 1} of {len(tour.STEPS)}").wait_for(timeout=90_000)
    settled(page)
    link = shared_link(page)
    query = {k: v[-1] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query.get("preset", DEFAULT_PRESET) == step["preset"], (index, link)
    for key, value in step["settings"].items():
        assert query[key] == str(value), (index, key, link)
    assert page.locator(EXCEPTION).count() == 0
    if step["page"] != "app_pages/playground.py":
        assert urlsplit(link).path.strip("/") == "nlhf-vs-rlhf"
        return
    start = policy_from_text(step.get("init", "uniform"), get_preset(step["preset"]).labels)
    np.testing.assert_allclose(page.evaluate(FIRST_FRAME), start, rtol=1e-6, atol=1e-9)
    has_bound = any(name.startswith("Theorem 1 bound") for name in page.evaluate(CURVES))
    assert has_bound == (step["settings"].get("schedule") == "theorem"), index


def test_learn_tour_walked_in_one_tab(context, app_url):
    page = open_page(context, f"{app_url}/learn")
    page.get_by_role("link", name="Show me").first.click()
    check_step(page, 0)
    for index in range(1, len(tour.STEPS)):
        if index == 4:  # a reader who changes the solver before the next step still gets the step's setup
            choose(page, "Algorithm", "omd")
            wait_idle(page, timeout=90_000)
        page.get_by_role("link", name="Next step").click()
        check_step(page, index)
    assert page.get_by_role("link", name="Next step").count() == 0


def test_browser_back_undoes_a_preset_switch(context, app_url):
    page = open_page(context, app_url)
    settled(page)
    choose(page, "Preset", "rock-paper-scissors")
    page.wait_for_function("() => window.location.search.includes('preset=rock-paper-scissors')", timeout=60_000)
    settled(page)
    np.testing.assert_allclose(nash_marker(page), [1 / 3, 1 / 3, 1 / 3], rtol=1e-6, atol=1e-9)
    page.go_back()
    page.wait_for_function("() => !window.location.search.includes('preset=')", timeout=60_000)
    page.wait_for_function(
        "() => { const gd = document.querySelectorAll('.js-plotly-plot')[0];"
        " const t = gd && gd.data && gd.data.find(d => d.name === 'Nash');"
        " return t && Math.abs(t.a[0] - 0.0625) < 1e-6; }",
        timeout=90_000,
    )
    expected = nash_equilibrium(get_preset(DEFAULT_PRESET)).policy
    np.testing.assert_allclose(nash_marker(page), expected, rtol=1e-6, atol=1e-9)
    assert page.get_by_text(f"Game in use: preset {DEFAULT_PRESET}").count() == 1
    assert page.locator(EXCEPTION).count() == 0


def test_a_1000_response_upload_survives_reruns_and_pages(context, app_url, tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"bradley_terry_scores": np.round(np.linspace(-3, 3, 1000), 4).tolist()}))
    page = open_page(context, f"{app_url}/learn")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(big))
    page.get_by_text("uploaded file big.json (1000 responses)").wait_for(timeout=120_000)
    page.get_by_text("too large for a link; download it").wait_for(timeout=30_000)
    for _ in range(2):  # reruns (R is Streamlit's rerun key) keep the game
        page.locator("[data-testid=stMain] h1").first.click()
        page.keyboard.press("r")
        wait_idle(page, timeout=120_000)
        assert page.get_by_text("uploaded file big.json (1000 responses)").count() == 1
    page.get_by_role("link", name="LM lab").click()
    page.get_by_role("button", name="Start training").wait_for(timeout=120_000)
    assert page.get_by_text("uploaded file big.json (1000 responses)").count() == 1
    assert page.locator(EXCEPTION).count() == 0
    page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").filter(has_text="Preset").click()
    page.locator(OPTION).filter(has_text="rock-paper-scissors").first.click()  # the picker leaves the large game
    page.get_by_text("Game in use: preset rock-paper-scissors (3 responses)").wait_for(timeout=60_000)
    assert page.locator(EXCEPTION).count() == 0


def bradley_terry_link(scores: int) -> str:
    """The link text of a Bradley–Terry game with ``scores`` equal scores (zlib + URL-safe base64, as the app's)."""
    raw = json.dumps({"bradley_terry_scores": [0] * scores}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def test_a_3000_response_game_by_upload_and_by_link(context, app_url, tmp_path):
    """The documented limit is reachable: 3,000 responses upload, every page answers or refuses in a
    sentence (the work budget), and a link too large to carry one keeps the last good game."""
    big = tmp_path / "huge.json"
    big.write_text(json.dumps({"bradley_terry_scores": np.round(np.linspace(-3, 3, 3000), 4).tolist()}))
    page = open_page(context, f"{app_url}/")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(big))
    page.get_by_text("uploaded file huge.json (3000 responses)").wait_for(timeout=180_000)
    page.get_by_text("one request may use on this server").wait_for(timeout=180_000)
    assert page.locator(EXCEPTION).count() == 0
    for name in ("Solver race", "NLHF vs RLHF", "Feedback lab"):
        page.get_by_role("link", name=name).click()
        wait_idle(page, timeout=180_000)
        assert page.get_by_text("uploaded file huge.json (3000 responses)").count() == 1, name
        assert page.locator(EXCEPTION).count() == 0, name
        answered = page.locator(".js-plotly-plot").count() + page.locator("[data-testid=stAlert]").count()
        assert answered > 0, f"{name} shows neither a figure nor a sentence"

    # By link: a Bradley–Terry link of 3,000 scores opens (a short link); one of 3,001 is refused in a sentence
    # before any n × n work, and the last good game stays.
    page = open_page(context, f"{app_url}/?game={bradley_terry_link(3000)}")
    page.get_by_text("Game in use: the game of the link you opened (3000 responses)").wait_for(timeout=180_000)
    assert page.locator(EXCEPTION).count() == 0
    page = open_page(context, f"{app_url}/?preset=rock-paper-scissors&game={bradley_terry_link(3001)}")
    page.get_by_text("3001 responses, more than the limit of 3000").wait_for(timeout=60_000)
    page.get_by_text("Game in use: preset rock-paper-scissors (3 responses)").wait_for(timeout=60_000)
    assert page.locator(EXCEPTION).count() == 0
