"""Links in a real headless Chromium: the sidebar's link reproduces the view in a fresh browser (issue 15).

Random control states are set on the Playground, the Solver race and Sweeps (through a link, then one
change by hand), the link the sidebar shows is opened in a fresh browser context, and the receiver
must show the same link (which lists every control's value) and the same chart data.
"""

from __future__ import annotations

import random
from urllib.parse import quote, urlencode

import pytest

from app.controls import ITERATION_CHOICES, slider_values
from nlhf_core.algorithms import get_solver as get_algorithm
from nlhf_core.algorithms import list_solvers as list_algorithms

from .browser_helpers import (  # noqa: F401 (the fixtures register by name)
    EXCEPTION,
    app_url_fixture,
    browser_fixture,
    chart_data,
    choose,
    context_fixture,
    open_page,
    shared_link,
    wait_idle,
)

pytestmark = pytest.mark.browser
SOLVERS = [s.name for s in list_algorithms()]
PRESETS = ["biased-cycle", "clone-rps", "two-prompts"]
LOG_TAUS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]


def random_playground(rng: random.Random) -> tuple[str, list]:
    spec = get_algorithm(rng.choice(SOLVERS))
    pairs = [("preset", rng.choice(PRESETS)), ("alg", spec.name)]
    for p in spec.params:
        value = (
            rng.choice(p.choices) if p.kind == "choice" else rng.choice(slider_values(p)) if p.kind == "float" else 5
        )
        pairs.append((p.name, str(value)))
    pairs += [("iters", str(rng.choice(ITERATION_CHOICES[:3])))]
    if pairs[0][1] == "two-prompts":
        pairs.append(("ctx", "state a fact"))
    return "", pairs


def random_race(rng: random.Random) -> tuple[str, list]:
    pairs = [("preset", rng.choice(PRESETS))]
    pairs += [("racers", name) for name in rng.sample(SOLVERS, rng.randint(2, 4))]
    pairs += [("race_tau", str(rng.choice(LOG_TAUS))), ("race_budget", str(rng.choice(ITERATION_CHOICES[:3])))]
    return "race", pairs


def random_sweeps(rng: random.Random) -> tuple[str, list]:
    low, high = sorted(rng.sample([0.01, 0.1, 1.0, 10.0], 2))
    pairs = [("preset", rng.choice(PRESETS)), ("sw_alg", rng.choice(["nash-md", "mwu", "omd"]))]
    pairs += [("sw_eta", str(low)), ("sw_eta", str(high)), ("sw_iters", "100")]
    return "sweeps", pairs


def settled(page) -> None:
    """Wait until the script is idle and every chart on the page is drawn."""
    wait_idle(page, timeout=90_000)
    page.wait_for_function(
        "() => { const c = document.querySelectorAll('[data-testid=stPlotlyChart]').length;"
        " const d = [...document.querySelectorAll('.js-plotly-plot')].filter(g => g.data).length;"
        " return c > 0 && c === d; }",
        timeout=90_000,
    )


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("make", [random_playground, random_race, random_sweeps])
def test_random_states_round_trip_through_the_shown_link(browser, app_url, make, seed):
    path, pairs = make(random.Random(seed))
    sender_ctx = browser.new_context(viewport={"width": 1400, "height": 2000})
    receiver_ctx = browser.new_context(viewport={"width": 1400, "height": 2000})
    try:
        sender = open_page(sender_ctx, f"{app_url}/{path}?{urlencode(pairs, quote_via=quote)}")
        settled(sender)
        if path == "":  # and one change by hand: a solver switch, after which other parameters are shown
            choose(sender, "Algorithm", "nash-mp")
            sender.wait_for_function("() => document.body.innerText.includes('Nash mirror prox')", timeout=60_000)
            settled(sender)
        link = shared_link(sender)
        assert " " not in link and link.startswith(app_url)
        receiver = open_page(receiver_ctx, link)
        settled(receiver)
        assert shared_link(receiver) == link  # the link lists every control: same link, same values
        assert chart_data(receiver) == chart_data(sender)
        assert receiver.locator(EXCEPTION).count() == sender.locator(EXCEPTION).count() == 0
        pasted = open_page(receiver_ctx, link.replace("%20", " "))  # a chat app that un-escapes spaces
        settled(pasted)
        assert chart_data(pasted) == chart_data(sender)
    finally:
        sender_ctx.close()
        receiver_ctx.close()


def test_playground_path_typed_by_hand_opens_the_playground(context, app_url):
    page = open_page(context, f"{app_url}/playground?alg=mwu&eta=0.05")
    settled(page)
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_text(get_algorithm("mwu").title).count() >= 1  # the chosen solver's caption
    assert "alg=mwu" in shared_link(page) and "eta=0.05" in shared_link(page)
