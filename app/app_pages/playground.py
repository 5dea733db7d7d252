"""Playground: pick a preference game, read its story, see its matrix and its equilibria."""

from __future__ import annotations

import streamlit as st

from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.errors import NLHFError
from nlhf_core.plotting import policy_bars, preference_heatmap
from nlhf_core.presets import get_preset, preset_names


@st.cache_data(show_spinner=False)
def _nash(name: str):
    return nash_equilibrium(get_preset(name))


@st.cache_data(show_spinner=False)
def _regularized(name: str, tau: float):
    return regularized_nash(get_preset(name), tau)


st.title("NLHF Explorer")
st.markdown(
    "A **preference game** lists how often people prefer each response to each other one: "
    "$P(y \\succ y')$. *Nash learning from human feedback* (Munos et al., 2024) looks for the "
    "policy that no other policy beats more than half of the time, the **Nash equilibrium**, "
    "instead of maximizing a Bradley–Terry reward."
)

names = preset_names()
name = st.selectbox("Preset game", names, index=0, key="preset")
game = get_preset(name)
st.info(game.story)

context = None
if game.has_contexts:
    context = st.radio("Prompt (context)", game.contexts, horizontal=True, key="context")
    shown = game.context(context)
else:
    shown = game

left, right = st.columns([1, 1])
with left:
    st.subheader("Preference matrix")
    st.plotly_chart(preference_heatmap(shown.labels, shown.matrix), key="matrix")
    st.caption("Cell (row, column) is P(row ≻ column); every pair adds up to 1 and the diagonal is 1/2.")

with right:
    st.subheader("Equilibria")
    tau = st.select_slider(
        "KL strength τ of the regularized equilibrium (reference: uniform)",
        options=[0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0],
        value=0.1,
        key="tau",
    )
    try:
        nash = _nash(name)
        reg = _regularized(name, tau)
    except NLHFError as err:  # one clear sentence, never a traceback
        st.error(str(err))
        st.stop()
    k = game.contexts.index(context) if context else 0
    nash_pi = nash.policy[k] if game.has_contexts else nash.policy
    reg_pi = reg.policy[k] if game.has_contexts else reg.policy
    st.plotly_chart(
        policy_bars(shown.labels, {"Nash": nash_pi, "Regularized Nash": reg_pi}),
        key="policies",
    )
    st.markdown(
        "The **regularized** equilibrium solves $\\pi(y) \\propto \\mu(y)\\,"
        "e^{P(y \\succ \\pi)/\\tau}$: it stays close to the reference $\\mu$ when τ is large "
        "and approaches the Nash equilibrium as τ shrinks."
    )
    uniqueness = "unique" if nash.unique else "not unique — the maximum-entropy one is shown"
    st.caption(
        f"Nash equilibrium ({uniqueness}): exploitability {nash.exploitability:.1e}. "
        f"Regularized equilibrium: duality gap {reg.regularized_gap:.1e}."
    )
