"""The Playground's parametric overlay: controls for a policy-gradient run and its explanation."""

from __future__ import annotations

from typing import Any

import streamlit as st

from nlhf_core.policy_gradient.registry import get_pg_algorithm, pg_algorithms

from .links import url_key
from .teaching import core_text

STEP_CHOICES = (250, 500, 1000, 2000, 4000)
BATCH_CHOICES = (8, 16, 64, 256, 1024)

EXPLANATION = (
    "A **parametric** policy π_θ(y) = softmax(θ_y + log π₀(y)) is trained by sampled policy gradients, as a "
    "language model would be (Section 7 of the paper): draw y ~ π and an alternative y′, ask the preference "
    "P(y ≻ y′), and step along ∇log π(y)·[P(y ≻ y′) − ½ − τ log(π(y)/μ(y))]. Its path (green) is noisy because "
    "each step sees only a batch of comparisons. With mixture β, Nash-MD-PG's resting point is that of tabular "
    "Nash-MD with η = β/τ: near, not at, the regularized Nash; β → 0 (self-play) or annealing β reaches it."
)


def _pg_title(name: str) -> str:
    return get_pg_algorithm(name).title


def pg_controls(tau: float) -> tuple[str, dict[str, Any]] | None:
    """Widgets for the overlay; returns ``(algorithm, params)`` or None when it is off."""
    if not st.toggle(
        "Overlay a policy-gradient run", **url_key("pg-on"), help="Train a softmax policy by sampled gradients"
    ):
        return None
    names = [a.name for a in pg_algorithms()]
    name = st.selectbox("Parametric algorithm", names, **url_key("pg-algo", _pg_title))
    algo = get_pg_algorithm(name)
    st.latex(r"g=\nabla\log\pi(y)\,\Big[s-\tau\log\frac{\pi(y)}{\mu(y)}\Big]")
    st.latex(algo.latex)
    params: dict[str, Any] = {"tau": tau}
    c1, c2 = st.columns(2)
    if algo.alternative == "mixture":
        params["beta"] = c1.slider("Mixture β", 0.0, 1.0, 0.125, 0.025, format="%.3f", **url_key("pg-beta"))
        params["beta_schedule"] = c2.selectbox("β schedule", ("constant", "linear"), **url_key("pg-beta-schedule"))
    elif algo.alternative == "ema":
        params["beta"] = c1.select_slider("EMA β", (0.9, 0.95, 0.99, 0.995, 0.999), 0.99, **url_key("pg-ema"))
    params["steps"] = c1.select_slider("Gradient steps", STEP_CHOICES, 1000, **url_key("pg-steps"))
    params["batch_size"] = c2.select_slider("Batch (comparisons per step)", BATCH_CHOICES, 64, **url_key("pg-batch"))
    params["lr"] = c1.number_input("Learning rate (SGD, decayed linearly)", 1e-3, 10.0, 1.0, **url_key("pg-lr"))
    params["seed"] = int(c2.number_input("Seed", 0, 10**9, 0, **url_key("pg-seed")))
    st.caption(f"τ = {tau:g} is the tabular solver's (0.1 if it has none). " + core_text(algo.citation) + ".")
    return name, params
