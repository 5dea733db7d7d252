"""Playground: edit a preference game, pick a solver, watch its policy move towards equilibrium."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import state
from app.admission import admit
from app.charts import chart
from app.controls import algorithm_picker, params_key, policy_editor, run_options
from app.links import url_key
from app.matrix_panel import render_matrix_editor, render_response_editing
from app.pg_panel import EXPLANATION, pg_controls
from app.safe_text import literal
from app.teaching import SIGNIFICANT, core_text, show_story
from nlhf_core.algorithms.export import metrics_to_json, trajectory_to_csv
from nlhf_core.budget import playground_work
from nlhf_core.errors import NLHFError
from nlhf_core.viz import bar_animation, convergence_figure, policy_heatmap, simplex_animation

#: Largest game whose Playground shows the RLHF optimum (its Bradley–Terry fit takes a minute at 1,000).
RLHF_MARKER_MAX_RESPONSES = 200

ss = st.session_state
game = state.current_game()

st.title("Playground")
st.markdown(
    "Edit who beats whom, pick a solver, and watch its policy move. Every number on this page comes "
    "from the `nlhf_core` library and is checked by its tests."
)
show_story(game)

context = 0
if game.has_contexts:
    ctx_name = st.radio("Prompt (context)", game.contexts, horizontal=True, **url_key("ctx"))
    context = game.contexts.index(ctx_name)

left, right = st.columns([5, 4], gap="large")

# ---------------------------------------------------------------------- the matrix editor
with left:
    render_matrix_editor(game, context)
    render_response_editing(game)

# ---------------------------------------------------------------------- solver and policies
with right:
    st.subheader("Solver")
    spec, params = algorithm_picker()
    if spec.latex:
        st.latex(spec.latex)
    iterations, samples, seed = run_options()
    with st.expander("Reference μ and initial policy π₀"):
        policy_editor(
            game,
            "ref",
            "Reference policy μ",
            "uniform",
            "The policy the KL term pulls towards (the SFT model in the paper).",
        )
        policy_editor(
            game,
            "init",
            "Initial policy π₀",
            "reference",
            "Where the solver starts; by default the reference, as in the paper.",
        )
    with st.expander("Parametric run (policy gradient)"):
        pg_choice = pg_controls(float(params.get("tau", 0.1)))

# ---------------------------------------------------------------------- run
ref, init = state.policy("ref"), state.policy("init")
tau = params.get("tau", 0.1)
try:
    overlay = (pg_choice[1]["steps"], pg_choice[1]["batch_size"]) if pg_choice else None
    per_iteration = spec.queries_per_iteration
    admit(
        playground_work(
            game, iterations=iterations, queries_per_iteration=per_iteration, samples=samples, overlay=overlay
        )
    )
    traj = state.run(game, spec.name, params_key(params), iterations, ref, init, samples, seed)
    nash = state.nash(game)
    reg = state.regularized(game, tau, ref)
    # The RLHF marker's Bradley–Terry fit grows like n³; large games go without it.
    rl = state.rlhf(game, tau, ref, "uniform") if game.n <= RLHF_MARKER_MAX_RESPONSES else None
    pg = state.pg_run(game, pg_choice[0], params_key(pg_choice[1]), ref, init) if pg_choice else None
except NLHFError as err:
    st.error(literal(err))
    st.stop()


def pick(policy: np.ndarray) -> np.ndarray:
    """The displayed context's row of a (C, n) or (n,) policy."""
    arr = np.asarray(policy)
    return arr.reshape(game.num_contexts, game.n)[context]


markers = {
    "Nash": pick(nash.policy),
    f"regularized Nash (τ = {tau:g})": pick(reg.policy),
    "Reference": pick(reg.reference),
}
if rl is not None:
    markers["RLHF"] = rl.rlhf[context]
path = traj.last_policies[:, context, :]
extra = {"average iterate": traj.average_policies[:, context, :]} if traj.iterate == "average" else {}
if pg is not None:
    extra[f"{pg.algorithm.title} (sampled)"] = pg.trajectory.policies[:, context, :]
st.subheader("Trajectory")
if game.n == 3:
    points, moved = state.field(game, spec.name, params_key(params), ref, context)
    fig = simplex_animation(game.labels, path, traj.queries, markers, field=(points, moved), extra_paths=extra)
    chart(fig, key="trajectory")
    st.caption(
        "Press ▶ to animate (it runs in your browser), or drag the slider. Each corner is one response; "
        "the orange dot is the policy after the shown number of preference queries. Grey arrows: where one "
        f"update moves each policy. Markers: exact Nash (★), regularized Nash for τ = {tau:g} (◆), reference "
        "(■) and the RLHF optimum π ∝ μ·exp(r/τ) of a Bradley–Terry reward fitted on uniform pairs (✕)."
        + (
            " Dashed: the average of the iterates, which is what converges for this solver."
            if traj.iterate == "average"
            else ""
        )
        + (" Solid line in the method's colour: the policy-gradient run's path." if pg is not None else "")
    )
else:
    chart(bar_animation(game.labels, path, traj.queries, markers), key="trajectory")
    st.caption(
        "Press ▶ to animate the policy; ticks mark the exact Nash, regularized Nash, reference"
        + (" and RLHF." if rl is not None else f" (no RLHF optimum above {RLHF_MARKER_MAX_RESPONSES} responses).")
    )
    chart(policy_heatmap(game.labels, path, traj.queries), key="policy-heatmap")
    st.caption("The policy over time: each row is a response, each column a recorded step.")

st.subheader("Convergence")
bound = spec.kl_bound(params, traj.steps)  # a theorem's bound on the KL, where one applies
chart(convergence_figure(traj.queries, traj.metrics, bound), key="convergence")
target_name = {
    "regularized": f"the regularized Nash π*_τ (τ = {tau:g})",
    "nash": "the (maximum-entropy) Nash equilibrium",
    "reference-best-response": "the regularized best response to μ",
}.get(traj.target_kind, "its target")
st.caption(
    f"Curves of the {traj.iterate} iterate against preference queries (one query = one evaluation of "
    f"P(y ≻ π) for all y). Exploitability is max_y P(y ≻ π) − 1/2 (0 at a Nash equilibrium); the KL is "
    f"KL(target ‖ π_t) to {target_name}."
)
final = traj.final_metrics()
st.dataframe(
    pd.DataFrame({"metric": [k.replace("_", " ") for k in final], "final value": list(final.values())}),
    hide_index=True,
    column_config={"final value": SIGNIFICANT},
)
if pg is not None:
    st.subheader(f"Parametric run: {pg.algorithm.title}")
    st.markdown(EXPLANATION)
    pg_curves = {k: v for k, v in {**pg.trajectory.metrics, **pg.curves}.items() if not k.startswith("win_rate")}
    chart(
        convergence_figure(pg.trajectory.queries, pg_curves, title=f"{pg.algorithm.title}: convergence"),
        key="pg-convergence",
    )
    st.caption(
        "Against sampled comparisons (batch × steps). KL to target: to this algorithm's resting point "
        f"({core_text(pg.algorithm.target)}); KL to equilibrium: to the regularized Nash π*_τ."
    )
    pg_final = pg.final_metrics()
    st.dataframe(
        pd.DataFrame({"metric": [k.replace("_", " ") for k in pg_final], "final value": list(pg_final.values())}),
        hide_index=True,
        key="pg-metrics",
        column_config={"final value": SIGNIFICANT},
    )
c1, c2 = st.columns(2)
c1.download_button(  # written when clicked: no rerun pays for a file nobody downloads
    "Trajectory (CSV)", lambda: trajectory_to_csv(traj, game), f"{spec.name}-trajectory.csv", "text/csv", key="dl-traj"
)
c2.download_button(
    "Metrics (JSON)", lambda: metrics_to_json(traj), f"{spec.name}-metrics.json", "application/json", key="dl-metrics"
)
