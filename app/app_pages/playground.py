"""Playground: edit a preference game, pick a solver, watch its policy move towards equilibrium."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import state
from app.charts import chart
from app.controls import algorithm_picker, params_key, policy_editor, run_options
from app.links import url_key
from app.pg_panel import EXPLANATION, pg_controls
from app.safe_text import literal
from nlhf_core.algorithms.export import metrics_to_json, trajectory_to_csv
from nlhf_core.algorithms.nash_md import theorem_kl_bound
from nlhf_core.errors import NLHFError
from nlhf_core.games.editing import add_response, apply_cell_edits, remove_response, rename_response
from nlhf_core.viz import bar_animation, convergence_figure, policy_heatmap, simplex_animation

ss = st.session_state
game = state.current_game()

st.title("Playground")
st.markdown(
    "Edit who beats whom, pick a solver, and watch its policy move. Every number on this page comes "
    "from the `nlhf_core` library and is checked by its tests."
)
if game.story:
    st.info(game.story if state.is_preset_story(game.story) else literal(game.story))

context = 0
if game.has_contexts:
    ctx_name = st.radio("Prompt (context)", game.contexts, horizontal=True, **url_key("ctx"))
    context = game.contexts.index(ctx_name)

left, right = st.columns([5, 4], gap="large")

# ---------------------------------------------------------------------- the matrix editor
with left:
    st.subheader("Preference matrix")
    st.caption(
        "Cell (row, column) is P(row ≻ column), the probability that people prefer the row's response. "
        "Editing a cell sets its mirror to 1 − value, so every pair still adds up to 1."
    )
    base = pd.DataFrame(game.matrices[context], index=list(game.labels), columns=list(game.labels))
    editor_key = f"matrix-editor-{ss.editor_version}-{context}"

    def commit_edits() -> bool:
        """Apply the editor's edits to the game (one script run per edit when called as the
        editor's callback), or keep them and explain; returns whether the game changed."""
        edits = {}
        for row, changes in ss[editor_key].get("edited_rows", {}).items():
            for col, value in changes.items():
                if col in game.labels and str(row).isdigit() and int(row) < game.n:  # else not from this grid
                    edits[(int(row), game.labels.index(col))] = value
        if not edits:
            return False
        try:
            state.set_game(apply_cell_edits(game, edits, context), custom=True)
        except NLHFError as err:
            ss.editor_error = (editor_key, str(err))
            return False
        ss.editor_error = None
        return True

    try:
        st.data_editor(
            base,
            key=editor_key,
            on_change=commit_edits,
            column_config={
                label: st.column_config.NumberColumn(label, min_value=None, max_value=None, format="%.4g")
                for label in game.labels
            },
            width="stretch",
        )
    except (KeyError, IndexError, ValueError, TypeError):  # edits no grid of this matrix can send (a crafted client)
        ss.editor_version += 1
        ss.notices.append("An edit did not fit the matrix and was ignored; the grid was reset.")
        st.rerun()
    error = ss.get("editor_error")
    if error is None or error[0] != editor_key:
        # edits that reached the script without the callback (scripted sessions): apply them now
        if commit_edits():
            st.rerun()
        error = ss.get("editor_error")
    if error is not None and error[0] == editor_key:
        st.error(literal(f"{error[1]} The last valid game is still in use; your edit is kept above so you can fix it."))

    with st.expander("Add, rename or remove responses"):
        c1, c2 = st.columns([3, 1])
        new_label = c1.text_input("New response", key="new-label", placeholder="e.g. polite refusal")
        if c2.button("Add", key="add-response"):
            try:
                state.set_game(add_response(game, new_label), custom=True)
                st.rerun()
            except NLHFError as err:
                st.error(literal(err))
        c1, c2, c3 = st.columns([2, 2, 1])
        old = c1.selectbox("Response", game.labels, key="rename-which")
        new = c2.text_input("New name", key="rename-to")
        if c3.button("Rename", key="rename-response"):
            try:
                state.set_game(rename_response(game, old, new), custom=True)
                st.rerun()
            except NLHFError as err:
                st.error(literal(err))
        c1, c2 = st.columns([3, 1])
        gone = c1.selectbox("Remove", game.labels, key="remove-which")
        if c2.button("Remove", key="remove-response"):
            try:
                state.set_game(remove_response(game, gone), custom=True)
                st.rerun()
            except NLHFError as err:
                st.error(literal(err))

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
link, ref, init = ss.game_link, state.policy("ref"), state.policy("init")
tau = params.get("tau", 0.1)
try:
    traj = state.run(link, spec.name, params_key(params), iterations, ref, init, samples, seed)
    nash = state.nash(link)
    reg = state.regularized(link, tau, ref)
    rl = state.rlhf(link, tau, ref, "uniform")
    pg = state.pg_run(link, pg_choice[0], params_key(pg_choice[1]), ref, init) if pg_choice else None
except NLHFError as err:
    st.error(literal(err))
    st.stop()


def pick(policy: np.ndarray) -> np.ndarray:
    """The displayed context's row of a (C, n) or (n,) policy."""
    arr = np.asarray(policy)
    return arr.reshape(game.num_contexts, game.n)[context]


markers = {
    "Nash": pick(nash.policy),
    "Regularized Nash": pick(reg.policy),
    "Reference": pick(reg.reference),
    "RLHF": rl.rlhf[context],
}
path = traj.last_policies[:, context, :]
extra = {"average iterate": traj.average_policies[:, context, :]} if traj.iterate == "average" else {}
if pg is not None:
    extra[f"{pg.algorithm.title} (sampled)"] = pg.trajectory.policies[:, context, :]
st.subheader("Trajectory")
if game.n == 3:
    points, moved = state.field(link, spec.name, params_key(params), ref, context)
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
        + (" Green: the policy-gradient run's path." if pg is not None else "")
    )
else:
    chart(bar_animation(game.labels, path, traj.queries, markers), key="trajectory")
    st.caption("Press ▶ to animate the policy; ticks mark the exact Nash, regularized Nash, reference and RLHF.")
    st.plotly_chart(policy_heatmap(game.labels, path, traj.queries), key="policy-heatmap")
    st.caption("The policy over time: each row is a response, each column a recorded step.")

st.subheader("Convergence")
bound = None
if spec.name == "nash-md" and params.get("schedule") == "theorem":
    bound = ("Theorem 1 bound 8/(τ²(T+1)) on KL", theorem_kl_bound(tau, traj.steps))
st.plotly_chart(convergence_figure(traj.queries, traj.metrics, bound), key="convergence")
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
)
if pg is not None:
    st.subheader(f"Parametric run: {pg.algorithm.title}")
    st.markdown(EXPLANATION)
    pg_curves = {k: v for k, v in {**pg.trajectory.metrics, **pg.curves}.items() if not k.startswith("win_rate")}
    st.plotly_chart(convergence_figure(pg.trajectory.queries, pg_curves), key="pg-convergence")
    st.caption(
        "Against sampled comparisons (batch × steps). KL to target: to this algorithm's resting point "
        f"({pg.algorithm.target}); KL to equilibrium: to the regularized Nash π*_τ."
    )
    pg_final = pg.final_metrics()
    st.dataframe(
        pd.DataFrame({"metric": [k.replace("_", " ") for k in pg_final], "final value": list(pg_final.values())}),
        hide_index=True,
        key="pg-metrics",
    )
c1, c2 = st.columns(2)
c1.download_button(
    "Trajectory (CSV)", trajectory_to_csv(traj, game), f"{spec.name}-trajectory.csv", "text/csv", key="dl-traj"
)
c2.download_button(
    "Metrics (JSON)", metrics_to_json(traj), f"{spec.name}-metrics.json", "application/json", key="dl-metrics"
)
