"""Sweeps: a solver's final error over an (eta, tau) grid, computed as one batched run."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import state
from app.admission import admit
from app.charts import chart
from app.controls import ITERATION_CHOICES, nice_values
from app.links import url_key
from app.safe_text import literal
from app.teaching import core_text
from nlhf_core.algorithms import get_solver, list_solvers
from nlhf_core.algorithms.sweep import sweep
from nlhf_core.budget import sweep_work
from nlhf_core.errors import NLHFError
from nlhf_core.viz import metric_lines, sweep_heatmap

#: Settings per axis of the sweep grid.
GRID = 12

game = state.current_game()
st.title("Sweeps")
st.markdown(
    "How do the step size η and the KL strength τ shape a solver? Every cell is a full run; the whole grid "
    f"advances together as one batched computation, so a {GRID} × {GRID} sweep takes about as long as a few "
    "runs. A solver with only one of the two parameters is swept along that one."
)
candidates = [s.name for s in list_solvers() if {"eta", "tau"} & {p.name for p in s.params}]
name = st.selectbox(
    "Solver",
    candidates,
    index=candidates.index("nash-md"),
    **url_key("sw_alg"),
)
spec = get_solver(name)
st.caption(f"**{core_text(spec.title)}** — {core_text(spec.summary)}")
has = {p.name for p in spec.params}
c1, c2 = st.columns(2)
etas = taus = None
if "eta" in has:
    p = spec.param("eta")
    lo, hi = c1.select_slider("η range", nice_values(1e-3, 100.0, 1.0), value=(0.01, 10.0), **url_key("sw_eta"))
    # The slider is shared by every solver (one link parameter); a solver's own range clips it.
    lo, hi = (min(max(v, p.low), p.high) for v in (lo, hi))
    etas = list(np.geomspace(lo, hi, GRID)) if lo < hi else [lo]
if "tau" in has:
    lo, hi = c2.select_slider("τ range", nice_values(1e-3, 10.0, 0.1), value=(0.01, 1.0), **url_key("sw_tau"))
    taus = list(np.geomspace(lo, hi, GRID)) if lo < hi else [lo]
c1, c2 = st.columns(2)
iterations = c1.select_slider("Iterations", ITERATION_CHOICES[:6], value=500, **url_key("sw_iters"))
metric = c2.selectbox(
    "Colour",
    ["kl_to_equilibrium", "exploitability", "regularized_gap"],
    **url_key("sw_metric"),
)


@state.cached(show_spinner="Sweeping…", max_entries=32)
def _sweep(game, name: str, etas: tuple | None, taus: tuple | None, iterations: int, ref: str):
    reference = "uniform" if ref == "uniform" else [float(x) for x in ref.split(",")]
    return sweep(
        name, game, etas=etas and list(etas), taus=taus and list(taus), iterations=iterations, reference=reference
    )


try:
    grid = {"settings": len(etas or [0]) * len(taus or [0]), "taus": len(taus or [0])}
    admit(sweep_work(game, iterations=iterations, queries_per_iteration=spec.queries_per_iteration, **grid))
    result = _sweep(game, name, etas and tuple(etas), taus and tuple(taus), iterations, state.policy("ref"))
except NLHFError as err:
    st.error(literal(err))
    st.stop()
if metric not in result.metrics:
    st.warning(f"{spec.title} has no {metric.replace('_', ' ')}; showing exploitability.")
    metric = "exploitability"
label = metric.replace("_", " ")
if None in result.taus or None in result.etas:  # one parameter: a line over it, not a one-row grid
    axis, values = ("η (step size)", result.etas) if None in result.taus else ("τ (KL strength)", result.taus)
    xs = [float(v) for v in values if v is not None]
    ys = [float(v) for v in np.ravel(result.metrics[metric])]
    figure = metric_lines({spec.title: (xs, ys)}, f"final {label}", log=True)
    figure["layout"]["xaxis"] = {"title": axis, "type": "log", "exponentformat": "power"}
    chart(figure, key="sweep")
    st.caption(
        f"The final {label} after {iterations} iterations for {len(values)} settings of {axis.split()[0]} "
        f"({spec.title} has no {'τ' if None in result.taus else 'η'}); gaps are settings outside its valid range."
    )
else:
    chart(sweep_heatmap(result.etas, result.taus, result.metrics[metric], metric), key="sweep")
    st.caption(
        f"log10 of the final {label} after {iterations} iterations over a {len(result.taus)} × "
        f"{len(result.etas)} grid; hover for the value. Blank cells are settings outside the solver's valid range "
        "(η·τ > 1 for mixture-based updates). Too large a step diverges or oscillates; too small a step has not "
        "converged yet."
    )
