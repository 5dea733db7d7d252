"""Paper's comparison: the exact tabular theory of the paper's Table 1, its beta curve, and measured studies on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app import state
from app.charts import chart
from app.controls import initial, nice_values
from app.links import url_key
from app.safe_text import literal
from nlhf_core.errors import NLHFError
from nlhf_core.games.policies import weights_from_text
from nlhf_core.games.presets import get_preset
from nlhf_core.study import measured_points, paper_findings, preset_study
from nlhf_core.study.defaults import DEFAULT_BETAS
from nlhf_core.viz import beta_curve_figure, policy_bars, table_heatmap

PRESET = "paper-comparison"
LM_STUDY = Path(__file__).resolve().parents[2] / "docs" / "study" / "paper-comparison" / "study.json"
PAIRS = [0, 500, 1000, 2000, 5000, 10000, 20000, 50000]
NOISES = [0.0, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2]
TABLE_BETAS = [0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875]
PAGE_SEEDS = 20
ss = st.session_state

st.title("Paper's comparison")
st.markdown(
    "Munos et al. (2024, Table 1) compare SFT, RLHF, self-play and Nash-MD-PG for several mixture coefficients β "
    "by pairwise win rates: **(a)** a middle β beats RLHF (0.598 at β = 0.125), **(b)** self-play only ties RLHF "
    "(0.489) and the best response, β = 1, loses to it, **(c)** everything beats SFT. For a tabular policy every "
    "method's resting point is known exactly, so the whole table can be *predicted*: draw N labelled pairs from "
    "the SFT model μ, fit a preference model and a Bradley–Terry reward on them, and deploy"
)
st.latex(
    r"\pi_{\mathrm{RLHF}} \propto \mu\, e^{\hat r/\tau_R},\qquad \pi_{\text{self-play}} = \pi^*_\tau(\hat P),"
    r"\qquad \pi_{\beta} = \mathrm{BR}_\tau\big(\pi^*_{\tau/(1-\beta)}(\hat P)\big) \propto \mu\,"
    r"e^{\hat P\, \pi^*_{\tau/(1-\beta)}/\tau}"
)
st.caption(
    "Nash-MD-PG's gradient vanishes where π ∝ μ exp(P̂ π_β / τ) with π_β ∝ π^(1−β) μ^β; then π_β is the regularized "
    "Nash at the larger temperature τ/(1−β) and π is the best response to it. Every pair is judged exactly under "
    "the true preferences."
)

choice = st.radio("Game", [f"preset:{PRESET}", "the current game"], horizontal=True, **url_key("pc_game"))
if choice == "the current game":
    game = state.current_game()
    spec = "" if ss.custom else f"preset:{ss.preset}"
else:
    game = get_preset(PRESET)
    spec = f"preset:{PRESET}"
found = preset_study(spec[len("preset:") :]) if spec else None
defaults = found.settings if found else {}
if found is None:
    st.caption(
        "This game has no study defaults; the controls start from the language-model study's (τ = τ_R = 0.1, "
        "uniform μ)."
    )

c1, c2, c3, c4 = st.columns(4)
tau0, tau_r0 = float(defaults.get("policy.tau", 0.1)), float(defaults.get("rlhf.tau", 0.1))
fine = [round(float(v), 3) for v in np.arange(0.05, 0.155, 0.005)]
tau = c1.select_slider(
    "τ (NLHF)",
    sorted({*nice_values(0.01, 5.0, tau0), *fine}),
    **url_key("pc_tau"),
    **initial("pc_tau", value=tau0),
)
tau_r = c2.select_slider(
    "τ_R (RLHF)",
    sorted({*nice_values(0.01, 5.0, tau_r0), *(round(float(v), 2) for v in np.arange(0.1, 0.65, 0.05))}),
    **url_key("pc_tau_r"),
    **initial("pc_tau_r", value=tau_r0),
)
pairs = c3.select_slider(
    "Labelled pairs N (0 = exact)",
    sorted({*PAIRS, int(defaults.get("data.pairs", 10000))}),
    **url_key("pc_pairs"),
    **initial("pc_pairs", value=int(defaults.get("data.pairs", 10000))),
)
noise = c4.select_slider("Label noise", NOISES, **url_key("pc_noise"), **initial("pc_noise", value=0.0))
c1, c2, c3 = st.columns([2, 1, 2])
mu_default = defaults.get("sft.answer_weights", [1.0] * game.n)
mu_text = c1.text_input(
    f"SFT reference μ: one weight per answer ({', '.join(game.labels)}), normalized",
    value=", ".join(f"{w:g}" for w in mu_default),
    key=f"pc_mu_{'|'.join(game.labels)}",
)
seeds = c2.slider(
    "Seeds",
    2,
    50,
    **url_key("pc_seeds"),
    help="Finite-data tables, one per seed (the preset's own check uses 50; 20 keep the page quick).",
    **initial("pc_seeds", value=min(PAGE_SEEDS, found.seeds if found else PAGE_SEEDS)),
)
table_betas = c3.multiselect(
    "Nash-MD-PG β in the table (β = 1 is always there)",
    TABLE_BETAS,
    default=[b for b in (found.betas if found else DEFAULT_BETAS) if b in TABLE_BETAS],
    key="pc_betas",
)

try:
    mu = tuple(float(w) for w in weights_from_text(mu_text, game.labels, what="SFT reference μ"))
    args = (game, mu, float(tau), float(tau_r), int(pairs), float(noise), int(seeds), tuple(sorted(table_betas)))
    table, curve = state.paper_study(*args)
except NLHFError as err:
    st.error(literal(err))
    st.stop()

names, settings = list(table.methods), table.settings
exact = paper_findings(table.exact, names, settings.betas)
finite = [paper_findings(W, names, settings.betas) for W in table.per_seed]

st.subheader("The β curve")
bands = None
if settings.seeds:
    bands = {"rlhf": curve.band("rlhf"), "self-play": curve.band("self-play")}
measured: list[dict] = []
notes: list[str] = []
upload = st.file_uploader("Overlay a measured study (study.json of `nlhf study`)", type=["json"], key="pc_upload")
sources = (
    [("docs/study/paper-comparison/study.json", LM_STUDY.read_text(encoding="utf-8"))] if LM_STUDY.is_file() else []
)
if upload is not None:
    sources.append((upload.name, upload.getvalue().decode("utf-8", errors="replace")))
for name, text in sources:
    try:
        measured += measured_points(json.loads(text), spec)
    except (NLHFError, json.JSONDecodeError, RecursionError) as err:
        reason = err if isinstance(err, NLHFError) else "it is not valid JSON."
        notes.append(f"{name} is not drawn: {reason}")
chart(
    beta_curve_figure(
        curve.betas, {"rlhf": curve.exact_vs_rlhf, "self-play": curve.exact_vs_self_play}, bands, measured
    ),
    key="pc-curve",
)
band_text = (
    f" Shaded: the range of the central 80% of {len(settings.seeds)} seeds with N = {settings.pairs:,} labelled "
    "pairs each."
    if settings.seeds
    else " N = 0: the exact, infinite-data curve only."
)
st.caption(
    "Lines: the win rate of Nash-MD-PG(β) against RLHF and against self-play with infinite data (β = 0 is "
    "self-play itself, β = 1 the best response to μ)." + band_text
)
for note in notes:
    st.caption(literal(note))
if measured:
    st.caption(f"Diamonds: {len(measured)} measured cells with their 95% intervals.")

st.subheader("What the table shows, and why")
cols = st.columns(4)
cols[0].metric(f"(a) β = {exact.best_middle_beta:g} vs RLHF", f"{exact.best_middle_vs_rlhf:.3f}")
cols[1].metric("(b) self-play vs RLHF", f"{exact.self_play_vs_rlhf:.3f}")
cols[2].metric("(b) best response vs RLHF", f"{exact.best_response_vs_rlhf:.3f}")
cols[3].metric("(c) worst method vs SFT", f"{exact.worst_vs_sft:.3f}")


def mark(ok: bool) -> str:
    return "holds" if ok else "does **not** hold"


held = ""
if finite:
    held = f" All three hold in {sum(f.all for f in finite)} of {len(finite)} seeds with N = {settings.pairs:,}."
st.markdown(
    f"- **(a) A middle β beats RLHF** ({mark(exact.a)} exactly: {exact.best_middle_vs_rlhf:.3f} ≥ 0.55 at "
    f"β = {exact.best_middle_beta:g}). Nash-MD-PG best-responds to the regularized Nash at the larger temperature "
    "τ/(1−β): an opponent between self-play's policy and SFT, still full of what SFT writes. What beats that "
    "opponent is what beats the answer the reward model likes most, so RLHF loses.\n"
    f"- **(b) Self-play ties RLHF and the curve rises then falls** ({mark(exact.b)} exactly: self-play "
    f"{exact.self_play_vs_rlhf:.3f}, best response {exact.best_response_vs_rlhf:.3f}). Self-play's π*_τ is the best "
    "response to *itself*: it keeps the answers that hold up against its own favourite, and those lose to RLHF's. "
    "As β → 1 the opponent becomes μ, and the best response to μ tilts μ in the order of P(y ≻ μ), exactly the "
    "order of the reward fitted on μ's pairs, only less sharply than RLHF: it loses.\n"
    f"- **(c) Every method beats SFT** ({mark(exact.c)} exactly: the worst wins {exact.worst_vs_sft:.3f}). Each one "
    "moves mass from what SFT writes toward answers that beat it." + held
)
if exact.all and game.name == PRESET:
    st.caption(
        "On this preset the window is narrow: about τ ∈ [0.091, 0.107] at τ_R = 0.3, τ_R ∈ [0.20, 0.49] at τ = 0.1, "
        "label noise below 0.03 (noise ε acts like τ/(1 − 2ε)). Move the sliders to see each finding break."
    )

st.subheader("The whole table")
tabs = st.tabs(["Finite data: mean and 95% interval over seeds", "Exact (infinite data)"])
with tabs[0]:
    if settings.seeds:
        chart(table_heatmap(names, table.mean, table.low, table.high), key="pc-table")
    else:
        st.caption("N = 0: the table is exact (see the other tab).")
with tabs[1]:
    chart(table_heatmap(names, table.exact, title="Exact win rate of row vs column (infinite data)"), key="pc-exact")

st.subheader("The policies")
context = 0
if game.has_contexts:
    context = game.contexts.index(st.radio("Prompt", game.contexts, horizontal=True, **url_key("ctx")))
spread = None
if settings.seeds:
    lo, hi = np.percentile(table.seed_policies[:, :, context], [10, 90], axis=0)
    spread = {m: (lo[i], hi[i]) for i, m in enumerate(names)}
chart(
    policy_bars(game.labels, {m: table.exact_policies[m][context] for m in names}, "What each method deploys", spread),
    key="pc-bars",
)
st.caption("Bars: the exact (infinite-data) policies; whiskers: the central 80% over seeds.")
st.dataframe(
    pd.DataFrame(
        {
            "method": names,
            "vs SFT (exact)": table.exact[:, 0],
            "vs RLHF (exact)": table.exact[:, 1],
            "vs RLHF (mean over seeds)": table.mean[:, 1],
        }
    ),
    hide_index=True,
)
st.download_button(
    "study.json (the tabular study)",
    json.dumps(table.to_json(spec), indent=1),
    "study.json",
    "application/json",
    key="pc-download",
)
