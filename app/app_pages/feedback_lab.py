"""Feedback lab: from simulated comparisons to a preference model or a reward model, and what each deploys."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import streamlit as st

from app import state
from app.admission import admit
from app.charts import chart
from app.controls import nice_values
from app.links import url_key
from app.safe_text import literal
from app.teaching import is_tie, percent
from nlhf_core.budget import feedback_lab_work
from nlhf_core.errors import NLHFError
from nlhf_core.feedback.annotators import AnnotatorPopulation
from nlhf_core.feedback.models import fit_preference_model, fit_reward_model, held_out_log_likelihood
from nlhf_core.feedback.pipeline import nash_of, online_nash_md, pipeline_curves, run_pipeline, sampling_effect
from nlhf_core.games.csv_cells import unescape_cell
from nlhf_core.games.game import PreferenceGame
from nlhf_core.viz import (
    band_figure,
    convergence_figure,
    interval_heatmap,
    policy_bars,
    rewards_bar,
)

SIZES = [100, 300, 1000, 3000, 10000, 30000]
CURVE_SIZES, CURVE_SEEDS = [30, 100, 300, 1000, 3000], range(5)

game = state.current_game()
st.title("Feedback lab")
st.markdown(
    "Everything starts from data: annotators compare two responses and say which they prefer. Here the "
    "current game plays the **true** preferences of the annotators; we draw comparisons, fit a **preference "
    "model** (one probability per pair, with its uncertainty) and a **Bradley–Terry reward model**, deploy the "
    "NLHF and the RLHF policy, and judge both under the true preferences."
)
c1, c2, c3, c4, c5 = st.columns(5)
size = c1.select_slider("Comparisons", SIZES, value=1000, **url_key("fb_n"))
sampling = c2.radio(
    "Pairs shown",
    ["uniform", "reference", "adaptive"],
    **url_key("fb_sampling"),
    help="uniform: all pairs alike; reference: both drawn from μ; adaptive: rounds drawn from the "
    "current NLHF estimate (on-policy feedback).",
)
noise = c3.select_slider("Label noise", [0.0, 0.05, 0.1, 0.2, 0.3], value=0.0, **url_key("fb_noise"))
tau = c4.select_slider("τ", nice_values(0.01, 5.0, 0.1), value=0.1, **url_key("fb_tau"))
seed = int(c5.number_input("Seed", 0, 10**6, 0, **url_key("fb_seed")))
context = 0
if game.has_contexts:
    context = game.contexts.index(st.radio("Prompt", game.contexts, horizontal=True, **url_key("ctx")))

ref = state.policy("ref")


def _reference(text: str):
    return "uniform" if text == "uniform" else [float(x) for x in text.split(",")]


@state.cached(show_spinner="Simulating and fitting…", max_entries=32)
def lab(game: PreferenceGame, size: int, sampling: str, noise: float, tau: float, seed: int, ref: str):
    truth = AnnotatorPopulation.of(game, noise=noise)
    game = truth.aggregate()
    result = run_pipeline(truth, size, tau=tau, sampling=sampling, reference=_reference(ref), seed=seed)
    train, test = result.dataset.split(0.2, seed)
    pm, rm = fit_preference_model(train, game), fit_reward_model(train, game)
    return (
        truth,
        result,
        pm,
        rm,
        held_out_log_likelihood(pm.matrix, test),
        held_out_log_likelihood(rm.predicted(), test),
    )


try:  # the whole page's work, the online run at its largest batch
    work = feedback_lab_work(
        game,
        size=size,
        adaptive=sampling == "adaptive",
        curve_sizes=CURVE_SIZES,
        seeds=len(CURVE_SEEDS),
        online_iterations=300,
        online_batch=512,
    )
    admit(work)
    truth, result, pm, rm, ll_pm, ll_rm = lab(game, size, sampling, noise, tau, seed, ref)
except NLHFError as err:
    st.error(literal(err))
    st.stop()
true_game = truth.aggregate()

st.subheader("1. The comparisons")
st.caption(f"{len(result.dataset)} comparisons, seed {seed}. Each row: which of two responses an annotator preferred.")
rows = pd.read_csv(io.StringIO(result.dataset.to_csv()), keep_default_na=False, dtype=str).head(8)
st.dataframe(rows.map(unescape_cell), hide_index=True)  # the names as written, without the CSV's formula guard
st.download_button("Dataset (CSV)", result.dataset.to_csv(), "comparisons.csv", "text/csv", key="dl-dataset")

st.subheader("2. Two models of the same data")
left, right = st.columns(2)
with left:
    st.markdown("**Preference model** — a probability per pair (posterior mean, 90% interval on hover)")
    chart(
        interval_heatmap(game.labels, pm.matrix[context], pm.lower[context], pm.upper[context], pm.counts[context]),
        key="pm",
    )
with right:
    st.markdown("**Reward model** — one Bradley–Terry reward per response (±1 standard error)")
    chart(rewards_bar(game.labels, rm.rewards[context], errors=rm.standard_errors[context]), key="rm")
    if rm.warning:
        st.warning(literal(rm.warning))
better = "preference model" if ll_pm > ll_rm else "reward model"
st.markdown(
    f"On the 20% of comparisons held out, the average log-likelihood is **{ll_pm:.4f}** for the preference "
    f"model and **{ll_rm:.4f}** for the reward model: the **{better}** predicts new comparisons better. "
    "A cycle is invisible to a reward model, so on cyclic games the preference model wins."
)

st.subheader("3. What each model deploys")
policies = {
    "NLHF (regularized Nash of the fitted preferences)": result.nlhf_policy[context],
    "RLHF (μ·exp(r/τ) of the fitted reward)": result.rlhf_policy[context],
    "Nash of the true game": nash_of(true_game)[context],
}
chart(policy_bars(game.labels, policies, title="Deployed policies"), key="deployed")
c1, c2, c3 = st.columns(3)
c1.metric("True exploitability, NLHF", f"{result.true_exploitability['nlhf']:.3g}")
c2.metric("True exploitability, RLHF", f"{result.true_exploitability['rlhf']:.3g}")
beats = result.nlhf_beats_rlhf
c3.metric("NLHF against RLHF (true preferences)", "tie" if is_tie(beats) else f"wins {percent(beats)}")

st.subheader("4. More data")


@state.cached(show_spinner="Repeating over dataset sizes and seeds…", max_entries=16)
def curves(game: PreferenceGame, sampling: str, noise: float, tau: float, ref: str):
    truth = AnnotatorPopulation.of(game, noise=noise)
    return pipeline_curves(truth, CURVE_SIZES, seeds=CURVE_SEEDS, tau=tau, sampling=sampling, reference=_reference(ref))


cv = curves(game, sampling, noise, tau, ref)
c1, c2 = st.columns(2)
with c1:
    chart(
        band_figure(
            cv.sizes,
            {k: cv.mean[k] for k in ("nlhf exploitability", "rlhf exploitability")},
            cv.std,
            "true exploitability",
        ),
        key="curve-exploitability",
    )
with c2:
    chart(
        band_figure(
            cv.sizes,
            {k: cv.mean[k] for k in ("preference model log-lik", "reward model log-lik")},
            cv.std,
            "held-out log-likelihood",
        ),
        key="curve-likelihood",
    )
st.caption("Means over 5 seeds with ±1 standard-deviation bands.")

st.subheader("5. Which pairs were shown")
samplings = {"uniform pairs": "uniform", "pairs from μ": "reference"}
if ref == "uniform" and game.n > 1:  # with a uniform μ, show a skewed sampling policy instead
    skewed = np.r_[0.6, np.full(game.n - 1, 0.4 / (game.n - 1))]
    samplings = {"uniform pairs": "uniform", f"pairs from ({', '.join(f'{p:.2g}' for p in skewed)})": skewed}
effect = sampling_effect(true_game, samplings, tau=tau, reference=_reference(ref))
c1, c2 = st.columns(2)
with c1:
    chart(
        rewards_bar(
            game.labels,
            {f"reward model, {k}": effect.rewards[k][context] for k in effect.names},
            title="Bradley–Terry reward by the pairs shown",
        ),
        key="sampling-rewards",
    )
with c2:
    chart(
        policy_bars(
            game.labels,
            {
                **{f"RLHF, {k}": effect.rlhf_policies[k][context] for k in effect.names},
                "NLHF (any pairs)": effect.nlhf_policy[context],
            },
            title="Deployed policy by the pairs shown",
        ),
        key="sampling-policies",
    )
st.caption(
    "With unlimited data: the Bradley–Terry reward (left, on its own axis: a reward can be negative) and hence "
    "the RLHF policy (right) change with the pairs shown when the preferences are not Bradley–Terry; the "
    "preference model, hence the NLHF policy, does not (Proposition 2 of the paper)."
)

st.subheader("6. Online Nash-MD")
batch = st.select_slider("Comparisons per iteration", [8, 32, 128, 512], value=128, **url_key("fb_batch"))


@state.cached(show_spinner="Asking the simulated annotators…", max_entries=16)
def online(game: PreferenceGame, noise: float, tau: float, batch: int, seed: int, ref: str):
    truth = AnnotatorPopulation.of(game, noise=noise)
    return online_nash_md(
        truth, tau=tau, eta=min(1.0, 1.0 / tau), iterations=300, batch=batch, seed=seed, reference=_reference(ref)
    )


run = online(game, noise, tau, batch, seed, ref)
chart(
    convergence_figure(
        list(range(1, 301)),
        {
            f"KL to regularized Nash (τ = {tau:g}), online (sampled)": run.online_kl,
            f"KL to regularized Nash (τ = {tau:g}), exact": run.exact_kl,
        },
        title="Online Nash-MD against the exact trajectory",
    ),
    key="online",
)
st.caption(
    "Each iteration compares responses of the current policy with responses of its mixture with μ, as judged "
    "by the simulated annotators, then takes Nash-MD's step; the exact trajectory uses P itself. Noise keeps "
    "the online run at a distance that shrinks with the batch size."
)
