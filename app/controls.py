"""Controls shared by the pages: algorithm and parameters from the registry, run options, policy editors.

Every widget with a ``key`` listed here is bound to the URL (``bind="query-params"``), so a
copied link restores it. Values are validated by the core (the registry's ranges).
"""

from __future__ import annotations

import json
from typing import Any, cast

import numpy as np
import streamlit as st

from nlhf_core.algorithms import AlgorithmSpec, get_solver, list_solvers
from nlhf_core.errors import NLHFError
from nlhf_core.games.editing import normalize_weights
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.policies import policy_from_text, policy_to_text
from nlhf_core.params import ParamSpec

from .links import url_key
from .safe_text import literal
from .teaching import core_text

ITERATION_CHOICES = [100, 200, 500, 1000, 2000, 5000, 10000, 20000]
SAMPLE_CHOICES = ["exact", 1, 2, 5, 10, 20, 50, 100, 1000]


def initial(key: str, **defaults: Any) -> dict[str, Any]:
    """A widget's default-value arguments, unless its value was already set through ``st.session_state``
    (the Learn tour sets widgets that way; passing a default too would make Streamlit warn)."""
    return {} if key in st.session_state else defaults


def nice_values(low: float, high: float, default: float) -> list[float]:
    """1-2-5 values between ``low`` and ``high`` (plus the default), for log-scale sliders."""
    values = {float(default)}
    for exponent in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1):
        for mantissa in (1, 2, 5):
            v = float(f"{mantissa}e{exponent}")
            if low <= v <= high:
                values.add(v)
    return sorted(values)


def linear_values(low: float, high: float, default: float, steps: int = 20) -> list[float]:
    """``steps + 1`` evenly spaced values from ``low`` to ``high`` (plus the default), for linear sliders."""
    values = {round(low + (high - low) * k / steps, 12) for k in range(steps + 1)} | {float(default)}
    return sorted(values)


def slider_values(spec: ParamSpec) -> list[float]:
    """The options of a float parameter's slider: 1-2-5 steps on a log scale, even steps otherwise.

    A log scale needs a positive lower end (``log10(0)`` is undefined), so a parameter whose range
    starts at 0 (a mixture or moving-average weight) always gets even steps.
    """
    low, high = float(spec.low if spec.low is not None else 0.0), float(spec.high if spec.high is not None else 1.0)
    default = float(spec.default)
    if spec.log_scale and low > 0:
        return nice_values(low, high, default)
    return linear_values(low, high, default)


def param_widget(spec: ParamSpec, key_prefix: str = "") -> Any:
    """One widget for a registry parameter, bound to the URL under its name."""
    key = f"{key_prefix}{spec.name}"
    label = f"{spec.name} — {core_text(spec.description)}"
    if spec.kind == "choice":
        return st.selectbox(label, spec.choices, **url_key(key), **initial(key, index=spec.choices.index(spec.default)))
    if spec.kind == "int":
        return int(
            st.number_input(
                label,
                min_value=int(spec.low or 0),
                max_value=None if spec.high is None else int(spec.high),
                step=1,
                **url_key(key),
                **initial(key, value=int(spec.default)),
            )
        )
    options = slider_values(spec)
    return st.select_slider(label, options=options, **url_key(key), **initial(key, value=float(spec.default)))


def algorithm_picker(key: str = "alg", default: str = "nash-md", key_prefix: str = "") -> tuple[AlgorithmSpec, dict]:
    """Algorithm selectbox and its parameter controls; returns the spec and the parameter values."""
    names = [s.name for s in list_solvers()]
    name = st.selectbox(
        "Algorithm",
        names,
        **url_key(key),
        **initial(key, index=names.index(default)),
    )
    spec = get_solver(name)
    st.caption(
        f"**{core_text(spec.title)}** — {core_text(spec.summary)} Converges to: {core_text(spec.target)}. "
        f"Cite: {core_text(spec.citation)}."
    )
    params = {p.name: param_widget(p, key_prefix) for p in spec.params}
    return spec, params


def run_options(key_prefix: str = "") -> tuple[int, int | None, int]:
    """Iterations, exact or sampled preferences, and the seed."""
    iterations = st.select_slider("Iterations", options=ITERATION_CHOICES, value=2000, **url_key(f"{key_prefix}iters"))
    samples = st.select_slider(
        "Preference feedback: exact, or M sampled comparisons per response and query",
        options=SAMPLE_CHOICES,
        value="exact",
        **url_key(f"{key_prefix}samples"),
    )
    seed = 0
    if samples != "exact":
        seed = int(cast(int, st.number_input("Seed", 0, 10**9, 0, **url_key(f"{key_prefix}seed"))))
    return int(iterations), (None if samples == "exact" else int(cast(int, samples))), seed


def params_key(params: dict) -> str:
    """Parameters as a canonical JSON string (a cache key)."""
    return json.dumps(params, sort_keys=True)


def policy_editor(game: PreferenceGame, kind: str, title: str, default: str, help_text: str) -> None:
    """A small table of weights per response, normalized by the core; stores the result in the session."""
    ss = st.session_state
    state_key = "ref_text" if kind == "ref" else "init_text"
    current = ss[state_key]
    base = policy_from_text("uniform" if current in ("uniform", "reference") else current, game.labels)
    if current == "reference" and kind == "init":
        base = policy_from_text(ss.ref_text, game.labels) if ss.ref_text != "uniform" else base
    st.markdown(f"**{title}**")
    st.caption(help_text)
    edited: Any = st.data_editor(
        {"response": list(game.labels), "weight": [float(p) for p in base]},
        key=f"{kind}-editor-{ss.policy_version}",
        disabled=["response"],
        hide_index=True,
        column_config={"weight": st.column_config.NumberColumn("weight (normalized for you)", min_value=0.0)},
    )
    cols = st.columns(2)
    try:
        p = normalize_weights(list(edited["weight"]), game.labels, what=title.lower())
    except NLHFError as err:
        st.error(literal(err))
        return
    text = policy_to_text(p)
    if cols[0].button(f"Reset to {default}", key=f"{kind}-reset"):
        ss[state_key] = default
        ss.policy_version += 1
        st.rerun()
    if not np.allclose(p, base, atol=1e-9, rtol=0):
        ss[state_key] = text
    cols[1].caption("normalized: " + ", ".join(f"{lab} {q:.3f}" for lab, q in zip(game.labels, p, strict=True)))
