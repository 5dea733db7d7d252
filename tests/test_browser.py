"""End-to-end tests in a real headless Chromium against `streamlit run app/main.py`."""

from __future__ import annotations

import pytest

from .browser_helpers import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    EXCEPTION,
    INFO,
    PLOTLY,
    choose,
    pick_radio,
    require_browser,
    screenshot,
    streamlit_server,
    wait_idle,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url():
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    executable = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.goto(app_url)
    wait_idle(pg)
    yield pg
    context.close()


def test_landing_page_shows_a_preset_its_story_and_matrix(page):
    page.wait_for_selector(PLOTLY, timeout=30_000)
    assert page.locator(PLOTLY).count() >= 2  # matrix heat map + equilibrium bars
    assert "lopsided cycle" in page.locator(INFO).first.inner_text()
    heatmap_text = page.locator(PLOTLY).first.inner_text()
    assert "rock" in heatmap_text and "0.9" in heatmap_text
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "playground")


def test_choosing_another_preset_updates_story_and_chart(page):
    choose(page, "Preset game", "condorcet-winner")
    wait_idle(page)
    page.wait_for_function(f"() => document.querySelector('{INFO}').innerText.includes('Condorcet winner')")
    assert "0.99" in page.locator(PLOTLY).first.inner_text()
    assert page.locator(EXCEPTION).count() == 0


def test_contextual_preset_offers_its_prompts(page):
    choose(page, "Preset game", "two-prompts")
    wait_idle(page)
    pick_radio(page, "state a fact")
    wait_idle(page)
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(PLOTLY).count() >= 2
