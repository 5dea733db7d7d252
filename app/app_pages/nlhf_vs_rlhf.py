"""NLHF vs RLHF: a Bradley–Terry reward fitted to the game against the Nash of the game itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import state
from app.admission import admit
from app.charts import chart
from app.controls import initial, nice_values
from app.links import url_key
from app.safe_text import literal
from app.teaching import misfit_sentence, nlhf_headline, show_story
from nlhf_core.budget import comparison_work
from nlhf_core.errors import NLHFError
from nlhf_core.viz import policy_bars, preference_heatmap, rewards_bar, win_rate_heatmap

game = state.current_game()
st.title("NLHF vs RLHF")
st.markdown(
    "RLHF first fits a **reward** to the comparisons with the Bradley–Terry model and then maximizes it with "
    "a KL penalty; NLHF keeps the **preference model** and looks for its (regularized) Nash equilibrium. "
    "Here **NLHF's policy is the regularized Nash π\\*\\_τ at the same KL strength τ as RLHF**; the Nash "
    "equilibrium is its τ → 0 limit."
)
show_story(game)
st.latex(
    r"\text{Bradley–Terry: } P(y \succ y') \approx \sigma\big(r(y) - r(y')\big), \qquad "
    r"\pi_{\mathrm{RLHF}}(y) \propto \mu(y)\, e^{r(y)/\tau}"
)

c1, c2 = st.columns(2)
tau = c1.select_slider("KL strength τ", nice_values(0.01, 5.0, 0.1), **url_key("rtau"), **initial("rtau", value=0.1))
uniform_mu = state.policy("ref") == "uniform"
sampling = c2.radio(
    "Pairs shown to the annotators for the reward fit: all pairs alike (uniform), or both drawn from μ (reference)",
    ["uniform", "reference"],
    **url_key("sampling"),
    horizontal=True,
    disabled=uniform_mu,
    help="With a uniform μ, pairs drawn from μ are uniform pairs: set a non-uniform reference μ in the "
    "Playground to see the reward change with the pairs shown."
    if uniform_mu
    else None,
)
if uniform_mu:
    c2.caption("μ is uniform, so both choices show the same pairs; set μ in the Playground to compare them.")
context = 0
if game.has_contexts:
    context = game.contexts.index(st.radio("Prompt", game.contexts, horizontal=True, **url_key("ctx")))

try:
    admit(comparison_work(game))
    cmp = state.comparison(game, tau, state.policy("ref"), sampling)
except NLHFError as err:
    st.error(literal(err))
    st.stop()
rl = cmp.rlhf
fit = rl.fit
st.success(nlhf_headline(cmp, tau))

left, right = st.columns(2)
with left:
    st.subheader("The fitted reward")
    chart(rewards_bar(game.labels, fit.scores[context], title="Fitted Bradley–Terry rewards (centred)"), key="rewards")
    st.caption(
        f"Maximum-likelihood Bradley–Terry rewards. Largest misfit |P − σ(r_i − r_j)| over the sampled pairs: "
        f"{fit.max_residual:.3g} (0 means the game really is Bradley–Terry). A cycle cannot be fitted, and when "
        "it is not BT the reward depends on which pairs were compared: change the control above."
    )
    if fit.warning:
        st.warning(literal(fit.warning))
with right:
    st.subheader("What the reward model believes")
    st.markdown(misfit_sentence(game.labels, fit.predicted()[context], game.matrices[context]))
    tab1, tab2 = st.tabs(["BT prediction σ(r_i − r_j)", "actual preferences P"])
    with tab1:
        chart(
            preference_heatmap(game.labels, fit.predicted()[context], title="BT prediction σ(r_row − r_column)"),
            key="bt-matrix",
        )
    with tab2:
        chart(preference_heatmap(game.labels, game.matrices[context], title="Actual preferences P"), key="true-matrix")

st.subheader("The policies")
names = ["Nash", "regularized Nash", "RLHF", "IPO", "best-of-4", "reference"]
shown_names = {"regularized Nash": "regularized Nash (NLHF)"}
chart(
    policy_bars(game.labels, {shown_names.get(n, n): np.asarray(cmp.policies[n])[context] for n in names}),
    key="policy-bars",
)
st.caption(
    f"RLHF (= DPO's tabular optimum) maximizes the fitted reward with a KL penalty τ = {tau:g}; NLHF's policy, "
    f"the regularized Nash, has the same penalty. IPO's optimum is μ·exp(P(y ≻ q)/τ) when both answers of a "
    "pair are drawn independently from q, as here (other pair weights give a weighted least-squares optimum: "
    "`nlhf compare --sampling`); best-of-4 keeps the highest-reward of 4 draws from μ. The Nash policy is the "
    "one nobody beats more than half of the time."
)

st.subheader("Head to head")
chart(win_rate_heatmap(cmp.names, cmp.win_rates), key="win-rates")
same = np.allclose(np.asarray(cmp.policies["RLHF"]), np.asarray(cmp.policies["DPO"]), rtol=0, atol=1e-12)
st.caption(
    "Cell (row, column) is the probability that the row's policy beats the column's. The Nash row is ≥ 0.5."
    + (" The RLHF and DPO rows coincide: DPO's tabular optimum is RLHF's policy." if same else "")
)
st.dataframe(
    pd.DataFrame({"policy": cmp.names, "exploitability": [cmp.exploitability[n] for n in cmp.names]}),
    hide_index=True,
    column_config={"exploitability": st.column_config.NumberColumn(format="%.4g")},
)
