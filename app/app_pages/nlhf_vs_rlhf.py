"""NLHF vs RLHF: a Bradley–Terry reward fitted to the game against the Nash of the game itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import state
from app.controls import initial, nice_values
from app.links import url_key
from app.safe_text import literal
from nlhf_core.errors import NLHFError
from nlhf_core.viz import policy_bars, preference_heatmap, rewards_bar, win_rate_heatmap

game = state.current_game()
st.title("NLHF vs RLHF")
st.markdown(
    "RLHF first fits a **reward** to the comparisons with the Bradley–Terry model and then maximizes it with "
    "a KL penalty; NLHF keeps the **preference model** and looks for its (regularized) Nash equilibrium."
)
st.latex(
    r"\text{Bradley–Terry: } P(y \succ y') \approx \sigma\big(r(y) - r(y')\big), \qquad "
    r"\pi_{\mathrm{RLHF}}(y) \propto \mu(y)\, e^{r(y)/\tau}"
)

c1, c2 = st.columns(2)
tau = c1.select_slider("KL strength τ", nice_values(0.01, 5.0, 0.1), **url_key("rtau"), **initial("rtau", value=0.1))
sampling = c2.radio(
    "Pairs shown to the annotators for the reward fit: all pairs alike (uniform), or both drawn from μ (reference)",
    ["uniform", "reference"],
    **url_key("sampling"),
    horizontal=True,
)
context = 0
if game.has_contexts:
    context = game.contexts.index(st.radio("Prompt", game.contexts, horizontal=True, **url_key("ctx")))

try:
    cmp = state.comparison(game, tau, state.policy("ref"), sampling)
except NLHFError as err:
    st.error(literal(err))
    st.stop()
rl = cmp.rlhf
fit = rl.fit
st.success(literal(cmp.verdict()))

left, right = st.columns(2)
with left:
    st.subheader("The fitted reward")
    st.plotly_chart(rewards_bar(game.labels, fit.scores[context]), key="rewards")
    st.caption(
        f"Maximum-likelihood Bradley–Terry rewards. Largest misfit |P − σ(r_i − r_j)| over the sampled pairs: "
        f"{fit.max_residual:.3g} (0 means the game really is Bradley–Terry). A cycle cannot be fitted, and when "
        "it is not BT the reward depends on which pairs were compared: change the control above."
    )
    if fit.warning:
        st.warning(literal(fit.warning))
with right:
    st.subheader("What the reward model believes")
    tab1, tab2 = st.tabs(["BT prediction σ(r_i − r_j)", "actual preferences P"])
    with tab1:
        st.plotly_chart(preference_heatmap(game.labels, fit.predicted()[context]), key="bt-matrix")
    with tab2:
        st.plotly_chart(preference_heatmap(game.labels, game.matrices[context]), key="true-matrix")

st.subheader("The policies")
names = ["Nash", "regularized Nash", "RLHF", "IPO", "best-of-4", "reference"]
st.plotly_chart(policy_bars(game.labels, {n: np.asarray(cmp.policies[n])[context] for n in names}), key="policy-bars")
st.caption(
    f"RLHF (= DPO's tabular optimum) maximizes the fitted reward with a KL penalty τ = {tau:g}; IPO's optimum is "
    "μ·exp(P(y ≻ q)/τ) for pairs drawn from q; best-of-4 keeps the highest-reward of 4 draws from μ. The Nash "
    "policy is the one nobody beats more than half of the time."
)

st.subheader("Head to head")
st.plotly_chart(win_rate_heatmap(cmp.names, cmp.win_rates), key="win-rates")
st.caption("Cell (row, column) is the probability that the row's policy beats the column's. The Nash row is ≥ 0.5.")
st.dataframe(
    pd.DataFrame({"policy": cmp.names, "exploitability": [cmp.exploitability[n] for n in cmp.names]}),
    hide_index=True,
)
