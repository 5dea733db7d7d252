# ruff: noqa: E501  (the tour's prose and LaTeX)
"""The Learn tour: six short steps, each opening a page set up to show its point.

A step is opened by an action link (:mod:`app.actions`, ``?do=tour-K.NONCE``): on the run it opens,
the app loads the step's preset and start, resets the page's controls to their defaults and sets the
step's own (:func:`open_step`), before any widget is drawn. So a tour walked in one tab opens each
step exactly as written, whatever the previous step or the reader changed. The step's page shows
where the reader is in the tour, with a "next step" link (:func:`render_banner`).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from nlhf_core.games.policies import policy_from_text, policy_to_text
from nlhf_core.games.presets import get_preset
from nlhf_core.registry import list_algorithms

from . import state
from .actions import action_link

STEPS: list[dict[str, Any]] = [
    {
        "title": "1. A preference game",
        "text": (
            "Annotators compare two responses and say which they prefer. Collected over many people, this gives "
            "a **preference matrix**: P(y ≻ y′) is the probability that y is preferred to y′. Every pair adds "
            "up to one and a response ties with itself. In the biased cycle rock beats scissors 90% of the time, "
            "paper beats rock 70%, and scissors only just beat paper."
        ),
        "latex": r"P(y \succ y') + P(y' \succ y) = 1, \qquad P(\pi \succ \pi') = \sum_{y,y'} \pi(y)\, P(y \succ y')\, \pi'(y')",
        "preset": "biased-cycle",
        "page": "app_pages/playground.py",
        "settings": {"alg": "nash-md"},
    },
    {
        "title": "2. The Nash equilibrium",
        "text": (
            "Which policy should a model follow? NLHF's answer: one that **no other policy beats more than half "
            "of the time** — a Nash equilibrium of the game where two policies play against each other. In "
            "rock–paper–scissors it is the uniform mix. Its exploitability max_y P(y ≻ π) − 1/2 is zero."
        ),
        "latex": r"\pi^\star \in \arg\max_{\pi} \min_{\pi'} P(\pi \succ \pi') \iff \max_y P(y \succ \pi^\star) = \tfrac12",
        "preset": "rock-paper-scissors",
        "init": "0.6,0.3,0.1",
        "page": "app_pages/playground.py",
        "settings": {"alg": "nash-mp", "tau": 0.01},
    },
    {
        "title": "3. Why a reward model can disagree",
        "text": (
            "RLHF squeezes the comparisons into one number per response (Bradley–Terry). Here *a* beats both "
            "others head to head, but *b* wins its other match-up 99% of the time, so the fitted reward ranks b "
            "first and RLHF follows b — a policy the Nash policy beats 55% of the time."
        ),
        "latex": r"P(y \succ y') \approx \sigma\big(r(y) - r(y')\big) \quad\text{cannot represent cycles, and depends on which pairs were shown}",
        "preset": "condorcet-winner",
        "page": "app_pages/nlhf_vs_rlhf.py",
        "settings": {"rtau": 0.1},
    },
    {
        "title": "4. Regularization towards a reference",
        "text": (
            "In practice the policy should stay close to a reference μ (the supervised model). The paper "
            "regularizes the game with a KL penalty of strength τ; its unique equilibrium π*_τ moves from μ "
            "(large τ) to the Nash equilibrium (τ → 0). Try the τ slider on the three-annotator example of "
            "the paper."
        ),
        "latex": r"P_\tau(\pi \succ \pi') = P(\pi \succ \pi') - \tau\,\mathrm{KL}(\pi\|\mu) + \tau\,\mathrm{KL}(\pi'\|\mu), \qquad \pi^\star_\tau(y) \propto \mu(y)\, e^{P(y \succ \pi^\star_\tau)/\tau}",
        "preset": "paper-three-annotators",
        "page": "app_pages/playground.py",
        "settings": {"alg": "nash-mp", "tau": 0.05},
    },
    {
        "title": "5. Mirror descent: Nash-MD",
        "text": (
            "Nash-MD improves the policy against a **mixture** of itself and the reference, then takes a "
            "multiplicative step. With the step η_t = 2/(τ(t+2)) the paper proves that its last iterate "
            "converges to π*_τ with KL ≤ 8/(τ²(T+1)); the dashed line in the convergence plot is that bound."
        ),
        "latex": r"\pi_t^{\mu} \propto \pi_t^{1-\eta_t\tau}\mu^{\eta_t\tau}, \quad \pi_{t+1}(y) \propto \pi^{\mu}_t(y)\, e^{\eta_t P(y \succ \pi_t^{\mu})}",
        "preset": "biased-cycle",
        "page": "app_pages/playground.py",
        "settings": {"alg": "nash-md", "schedule": "theorem", "tau": 0.1},
    },
    {
        "title": "6. Self-play cycles",
        "text": (
            "Plain self-play (multiplicative weights against your current self) never settles in a cycle: the "
            "last iterate spirals outwards while only the *average* approaches the Nash equilibrium. Compare "
            "with Nash-MD or mirror prox in the Solver race."
        ),
        "latex": r"\pi_{t+1}(y) \propto \pi_t(y)\, e^{\eta P(y \succ \pi_t)} \quad\Rightarrow\quad \tfrac1T\sum_t \pi_t \to \pi^\star",
        "preset": "rock-paper-scissors",
        "init": "0.6,0.3,0.1",
        "page": "app_pages/playground.py",
        "settings": {"alg": "mwu", "eta": 0.05},
    },
]
#: Titles of the pages the steps open (the navigation's titles, to tell whether a step's page is showing).
PAGE_TITLES = {"app_pages/playground.py": "Playground", "app_pages/nlhf_vs_rlhf.py": "NLHF vs RLHF"}
#: Controls that a step resets to their defaults before setting its own (besides every solver parameter).
PAGE_CONTROLS = ("alg", "iters", "samples", "seed", "ctx", "rtau", "sampling", "pg-on")


def _controls() -> set[str]:
    return set(PAGE_CONTROLS) | {p.name for spec in list_algorithms() for p in spec.params}


def open_step(index: int) -> None:
    """Set the session up as step ``index`` says (before any widget of the run): its preset and start,
    every control of its page at its default, then the step's own settings."""
    ss = st.session_state
    step = STEPS[index]
    for key in _controls() & set(ss.keys()):
        del ss[key]
    game = get_preset(step["preset"])
    ss.preset = step["preset"]
    state.set_game(game, custom=False, origin=f"preset {step['preset']}")
    ss.notices = []
    ss.ref_text = "uniform"
    ss.init_text = policy_to_text(policy_from_text(step["init"], game.labels)) if "init" in step else "reference"
    ss.policy_version += 1
    for key, value in step["settings"].items():
        ss[key] = value
    ss.tour_step = index


def take(action: str) -> None:
    """Open the step an action link asked for (``tour-K``); anything else is not the tour's."""
    if action.startswith("tour-") and action[5:].isdigit() and int(action[5:]) < len(STEPS):
        open_step(int(action[5:]))


def leave() -> None:
    """Button callback: hide the tour's banner."""
    st.session_state.tour_step = None


def step_link(index: int, label: str = "Show me", **kwargs) -> None:
    """The link that opens step ``index`` on its page."""
    action_link(STEPS[index]["page"], label, f"tour-{index}", **kwargs)


def render_banner(page_title: str) -> None:
    """Where the reader is in the tour and the next step, on the page of the current step."""
    index = st.session_state.get("tour_step")
    if index is None or PAGE_TITLES.get(STEPS[index]["page"]) != page_title:
        return
    with st.container(border=True):
        cols = st.columns([6, 2, 2, 2])
        cols[0].markdown(f"**Learn tour, step {index + 1} of {len(STEPS)}** — {STEPS[index]['title'][3:]}")
        if index + 1 < len(STEPS):
            with cols[1]:
                step_link(index + 1, "Next step", icon=":material/arrow_forward:")
        cols[2].page_link("app_pages/learn.py", label="All steps", icon=":material/school:")
        cols[3].button("Leave the tour", key="tour-leave", on_click=leave)
