"""Solver race: several algorithms on the same game and budget of preference queries."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import state
from app.admission import admit
from app.charts import chart
from app.controls import ITERATION_CHOICES, nice_values, params_key
from app.links import url_key
from app.safe_text import literal
from app.teaching import SIGNIFICANT
from nlhf_core.algorithms import get_solver, list_solvers
from nlhf_core.algorithms.trajectory import queries_to_tolerance
from nlhf_core.budget import race_work
from nlhf_core.errors import NLHFError
from nlhf_core.viz import race_figure

game = state.current_game()
st.title("Solver race")
st.markdown(
    "The same game, the same reference, one budget of **preference queries** (evaluations of P(y ≻ π) for "
    "every y): which solver gets closest to its target first? Extragradient methods spend two queries per "
    "iteration, so the race is fair only on the queries axis."
)
names = [s.name for s in list_solvers()]
racers = st.multiselect(
    "Solvers",
    names,
    default=["nash-md", "nash-mp", "omd", "mwu"],
    **url_key("racers"),
)
c1, c2, c3 = st.columns(3)
tau = c1.select_slider("τ (for solvers that have it)", nice_values(0.01, 5.0, 0.1), value=0.1, **url_key("race_tau"))
budget = c2.select_slider("Budget (preference queries)", ITERATION_CHOICES, value=2000, **url_key("race_budget"))
metric = c3.selectbox(
    "Metric (KL is measured to each solver's own target)",
    ["kl_to_equilibrium", "exploitability", "regularized_gap"],
    **url_key("race_metric"),
)
tolerance = st.select_slider(
    "Tolerance for the table", [1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10], value=1e-6, **url_key("race_tol")
)

try:
    per_iteration = [get_solver(r).queries_per_iteration for r in racers]
    admit(race_work(game, budget_queries=budget, queries_per_iteration=per_iteration))
except NLHFError as err:
    st.error(literal(err))
    st.stop()


def _count(queries: int | None) -> str:
    """A number of queries for the table, or "—" where the tolerance was not reached."""
    return "—" if queries is None else f"{queries:,}"


runs, rows = {}, []
progress = st.progress(0.0, text="Racing…")
for k, name in enumerate(racers):
    spec = get_solver(name)
    progress.progress(k / len(racers), text=f"Running {spec.title} ({k + 1} of {len(racers)})…")
    params = spec.defaults_for_tau(tau)  # the step lowered to 1/tau where eta × tau is a mixture weight
    iterations = max(1, budget // spec.queries_per_iteration)  # the same budget of queries for everyone
    try:
        traj = state.run(
            game,
            name,
            params_key(params),
            iterations,
            state.policy("ref"),
            state.policy("init"),
            None,
            0,
        )
    except NLHFError as err:
        st.error(literal(f"{spec.title}: {err}"))
        continue
    curves = traj.metrics
    if metric in curves:
        runs[spec.title] = (traj.queries, curves[metric])
    rows.append(
        {
            "solver": spec.title,
            "target": {"regularized": "π*_τ", "nash": "Nash", "reference-best-response": "BR(μ)"}.get(
                traj.target_kind, "—"
            ),
            "iterate": traj.iterate,
            "queries/iteration": spec.queries_per_iteration,
            f"queries to {metric.replace('_', ' ')} ≤ {tolerance:g}": _count(
                queries_to_tolerance(curves[metric], traj.queries, tolerance) if metric in curves else None
            ),
            "final exploitability": traj.final_metrics()["exploitability"],
        }
    )
progress.empty()
if runs:
    chart(race_figure(runs, metric), key="race")
    st.caption(
        "Each curve is the converging iterate of one solver (the average for self-play MWU and replicator), "
        "given the same budget of queries; values below 1e-16 are machine precision and drawn at 1e-16."
    )
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={"final exploitability": SIGNIFICANT})
    st.caption("—: the solver did not reach the tolerance within the budget (or has no such metric).")
