"""The sidebar's "Link to exactly this view" reproduces the view (issue 15), and bad link values are named (issue 18).

A link is read from the sidebar, decoded as a browser would, and opened in a fresh session: the
controls must hold the same values and the charts the same data.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from nlhf_core.algorithms import get_solver as get_algorithm
from nlhf_core.algorithms import list_solvers as list_algorithms

from .app_helpers import figures, fresh, link_page, link_query, shared_link, shown

SOLVERS = [s.name for s in list_algorithms()]
PAGE_FILES = {"": "app_pages/playground.py", "race": "app_pages/race.py", "sweeps": "app_pages/sweeps.py"}


def open_link(link: str):
    """A fresh session opened on ``link`` (its page and its parameters)."""
    at = fresh(link_query(link))
    if link_page(link):
        at.switch_page(PAGE_FILES[link_page(link)]).run()
        assert not at.exception, at.exception
    return at


def control_values(at, link: str) -> dict:
    """The value of every control the link names (the game and policies are checked through the charts)."""
    return {k: at.session_state[k] for k in link_query(link) if k not in ("preset", "game", "ref", "init")}


def assert_same_view(sender, link: str) -> None:
    receiver = open_link(link)
    assert control_values(receiver, link) == control_values(sender, link)
    assert figures(receiver) == figures(sender)
    assert shown(receiver.error) == shown(sender.error)
    assert shared_link(receiver) == link


# ---------------------------------------------------------------------- what the link carries
def test_multi_valued_controls_keep_every_value():
    at = fresh()
    at.switch_page("app_pages/race.py").run()
    at.multiselect(key="racers").set_value(["nash-md", "nash-mp", "omd", "mwu", "omwu"]).run()
    assert link_query(shared_link(at))["racers"] == ["nash-md", "nash-mp", "omd", "mwu", "omwu"]
    at.switch_page("app_pages/sweeps.py").run()
    at.select_slider(key="sw_eta").set_value((0.1, 5.0)).run()
    link = shared_link(at)
    assert link_page(link) == "sweeps" and link_query(link)["sw_eta"] == ["0.1", "5.0"]
    assert_same_view(at, link)


def test_parameters_shown_after_a_solver_switch_are_in_the_link():
    at = fresh()
    at.select_slider(key="eta").set_value(0.5).run()
    at.selectbox(key="alg").set_value("nash-mp").run()
    query = link_query(shared_link(at))
    spec = get_algorithm("nash-mp")
    assert {p.name for p in spec.params} <= set(query)
    assert query["alg"] == "nash-mp" and float(query["eta"]) == at.session_state["eta"]
    assert_same_view(at, shared_link(at))


def test_link_is_percent_encoded_and_survives_pasting():
    at = fresh({"preset": "two-prompts", "ctx": "state a fact"})
    link = shared_link(at)
    assert " " not in link and "+" not in link and "ctx=state%20a%20fact" in link
    assert_same_view(at, link)


def test_policy_gradient_overlay_and_lm_lab_settings_reach_the_link():
    at = fresh()
    at.toggle(key="pg-on").set_value(True).run()
    at.selectbox(key="pg-algo").set_value("self-play").run()
    at.select_slider(key="pg-steps").set_value(250).run()
    query = link_query(shared_link(at))
    assert query["pg-on"] == "true" and query["pg-steps"] == "250"
    assert_same_view(at, shared_link(at))
    at.switch_page("app_pages/lm_lab.py").run()
    at.radio(key="lm-source").set_value("A preset")
    at.multiselect(key="lm-methods").set_value(["rlhf", "nash-md-pg"])
    at.number_input(key="lm-tau").set_value(0.25)
    at.button[0].click()  # the form's submit (no job starts: the test stops it right away)
    at.run()
    job = at.session_state["lm_job"]
    job.stop()
    query = link_query(shared_link(at))
    assert link_page(shared_link(at)) == "lm-lab"
    assert query["lm-methods"] == ["rlhf", "nash-md-pg"] and query["lm-tau"] == "0.25"
    assert query["lm-source"] == "A preset"
    job.job.join(120)


# ---------------------------------------------------------------------- random control states round trip
def random_playground(at, rng: random.Random) -> None:
    at.selectbox(key="alg").set_value(rng.choice(SOLVERS)).run()
    spec = get_algorithm(at.session_state["alg"])
    for p in spec.params:
        if p.kind == "choice":
            at.selectbox(key=p.name).set_value(rng.choice(p.choices))
        elif p.kind == "int":
            at.number_input(key=p.name).set_value(rng.choice([0, 5, 50]))
        else:
            at.select_slider(key=p.name).set_value(float(rng.choice(at.select_slider(key=p.name).options)))
    at.select_slider(key="iters").set_value(rng.choice([100, 200, 500]))
    at.select_slider(key="samples").set_value(rng.choice(["exact", 10]))
    at.run()


def random_race(at, rng: random.Random) -> None:
    at.switch_page("app_pages/race.py").run()
    at.multiselect(key="racers").set_value(rng.sample(SOLVERS, rng.randint(1, 3)))
    at.select_slider(key="race_tau").set_value(float(rng.choice(at.select_slider(key="race_tau").options)))
    at.select_slider(key="race_budget").set_value(rng.choice([100, 200, 500]))
    at.selectbox(key="race_metric").set_value(rng.choice(["kl_to_equilibrium", "exploitability"]))
    at.run()


def random_sweeps(at, rng: random.Random) -> None:
    at.switch_page("app_pages/sweeps.py").run()
    at.selectbox(key="sw_alg").set_value(rng.choice(at.selectbox(key="sw_alg").options)).run()
    shown_keys = {w.key for w in at.get("select_slider")}
    for key in ("sw_eta", "sw_tau"):
        if key in shown_keys:
            options = [float(o) for o in at.select_slider(key=key).options]
            at.select_slider(key=key).set_value(tuple(sorted(rng.sample(options, 2))))
    at.select_slider(key="sw_iters").set_value(rng.choice([100, 200]))
    at.run()


@pytest.mark.parametrize("page", [random_playground, random_race, random_sweeps])
@settings(max_examples=2, deadline=None)
@given(seed=hst.integers(0, 2**16), preset=hst.sampled_from(["biased-cycle", "clone-rps", "two-prompts"]))
def test_random_control_states_round_trip_through_the_link(page, seed, preset):
    at = fresh({"preset": preset})
    page(at, random.Random(seed))
    assert not at.exception, at.exception
    assert_same_view(at, shared_link(at))


# ---------------------------------------------------------------------- values a link cannot have
def test_out_of_range_link_values_are_named_with_what_is_used_instead():
    at = fresh({"iters": "10**12", "tau": "-1", "alg": "nope"})
    notices = shown(at.warning)
    assert any("iters = 10**12" in n and "using 2000 instead" in n for n in notices), notices
    assert any("tau = -1" in n and "using 0.1 instead" in n for n in notices), notices
    assert any("alg = nope" in n and "using nash-md instead" in n for n in notices), notices
    assert len(figures(at)) >= 2  # the page still shows the default view
    at.run()
    assert shown(at.warning) == notices  # named once, not again on every rerun


def test_valid_link_values_get_no_notice():
    at = fresh({"alg": "mwu", "eta": "0.05", "iters": "500"})
    assert at.session_state["eta"] == 0.05 and not at.warning
