"""Learn: a guided tour in short steps, each opening the Playground (or another page) set up for it."""

from __future__ import annotations

import streamlit as st

STEPS = [
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


st.title("Learn")
st.markdown("A short tour of the ideas behind NLHF. Each step opens a page set up to show it.")
for step in STEPS:
    with st.container(border=True):
        st.subheader(step["title"])
        st.markdown(step["text"])
        st.latex(step["latex"])
        query = {"preset": step["preset"], **({"init": step["init"]} if "init" in step else {})}
        query.update({key: str(value) for key, value in step["settings"].items()})
        st.page_link(step["page"], label="Show me", icon=":material/play_arrow:", query_params=query)
