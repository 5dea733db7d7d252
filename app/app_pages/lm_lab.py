"""LM lab: train a small language model with Nash-MD-PG, RLHF and self-play on the current game, live."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import streamlit as st

from app import state
from app.charts import chart
from app.jobs import ServerBusyError, SessionJob, session_probe, session_work
from app.links import url_key
from app.lm_lab_support import BUDGETS, DEFAULT_BETA, DEFAULT_PRESET, MODEL_SIZES, lab_config, zip_run_dir
from app.safe_text import literal
from nlhf_core.errors import NLHFError
from nlhf_core.games.io import save_game
from nlhf_core.games.presets import open_game, preset_names
from nlhf_core.llm.config import METHODS
from nlhf_core.llm.progress import read_progress, valid_share
from nlhf_core.llm.verdict import verdict
from nlhf_core.viz import metric_lines, policy_bars, ternary_paths, win_rate_heatmap

ss = st.session_state
st.title("LM lab")
st.markdown(
    "A real (tiny) transformer learns to answer prompts. Its answers are the responses of the game, and "
    "the game's preferences play the annotators. The pipeline is the paper's: **SFT** on a skewed corpus "
    "(that model is the reference μ) → pairs sampled from it and labelled → a **preference model** and a "
    "**Bradley–Terry reward model** → **RLHF** (policy gradient on the reward with a KL penalty), **self-play**, "
    "**Nash-MD-PG** (the alternative drawn token by token from π^(1−β)·μ^β) and **Nash-EMA-PG**. Because each "
    "answer is a category, the model's answer distribution can be drawn on the same simplex as the exact "
    "regularized Nash of the game with the SFT model as reference.\n\n"
    "It opens on **paper-comparison**, the preset built the way the paper's data was (its story is on the "
    "*Paper's comparison* page): there Nash-MD-PG with β = 0.5 should beat RLHF, as in the paper's table. With a "
    "preset that has its own settings (this one) the SFT answer weights, RLHF's τ_R = 0.3 and two rounds of "
    "feedback (the second also drawn from a self-play policy, so the preference model sees the pairs SFT rarely "
    "writes) come with it."
)

job: SessionJob | None = ss.get("lm_job")
running = job is not None and job.running

with st.form("lm-form"):
    c1, c2 = st.columns(2)
    source = c1.radio("True preferences", ["The Playground's game", "A preset"], index=1, **url_key("lm-source"))
    names = preset_names()
    preset = c2.selectbox("Preset", names, index=names.index(DEFAULT_PRESET), **url_key("lm-preset"))
    size = c1.radio(
        "Model", list(MODEL_SIZES), horizontal=True, **url_key("lm-size"), help="tiny: 2 layers × 64; small: 4 × 128"
    )
    budget = c2.radio(
        "Budget", list(BUDGETS), horizontal=True, **url_key("lm-budget"), help="quick: about a minute; full: several"
    )
    methods = st.multiselect("Methods", list(METHODS), default=list(METHODS), **url_key("lm-methods"))
    c1, c2, c3, c4 = st.columns(4)
    tau = c1.number_input("τ (KL strength)", 0.001, 100.0, 0.1, format="%.3f", **url_key("lm-tau"))
    beta = c2.number_input("β (Nash-MD-PG mixture)", 0.0, 1.0, DEFAULT_BETA, 0.025, format="%.3f", **url_key("lm-beta"))
    judge = c3.selectbox("Judge of the NLHF methods", ["preference-model", "oracle"], **url_key("lm-judge"))
    seed = int(c4.number_input("Seed", 0, 10**6, 0, **url_key("lm-seed")))
    submitted = st.form_submit_button("Start training", type="primary", disabled=running)

if submitted and not running:
    out = session_work().new_run_dir()  # deleted when the session ends, a start is refused or a new run starts
    if source == "A preset":
        game_spec = f"preset:{preset}"
    else:
        game_spec = str(out / "game.json")
        save_game(state.current_game(), game_spec)
    scale = float(os.environ.get("NLHF_LM_LAB_SCALE", "1"))
    config = lab_config(
        game_spec, size=size, budget=budget, methods=methods, tau=tau, beta=beta, judge=judge, seed=seed, scale=scale
    )
    try:
        from nlhf_core.llm.api import TrainingJob

        job = SessionJob(TrainingJob(config, out / "run"), session_alive=session_probe())
        ss.lm_job = session_work().own(job).start()
        ss.lm_config, ss.lm_out, ss.lm_zip = config, out / "run", None
        running = True
    except (NLHFError, ServerBusyError) as err:
        session_work().discard(out)  # a refused start leaves nothing behind
        st.error(literal(err))


def resume() -> None:
    """Button callback: continue the stopped run from its checkpoints, in a new job of this session."""
    from nlhf_core.llm.api import TrainingJob

    try:
        ss.lm_job = session_work().own(ss.lm_job.resume(lambda: TrainingJob(ss.lm_config, ss.lm_out, resume=True)))
        ss.lm_zip, ss.lm_resume_error = None, None
    except (NLHFError, ServerBusyError) as err:
        ss.lm_resume_error = str(err)


if job is not None:
    c1, c2 = st.columns(2)
    c1.button("Cancel training", key="lm-cancel", on_click=job.stop, disabled=not running)
    if job.job.status == "stopped" and not running:
        c2.button("Resume training", key="lm-resume", on_click=resume, help="Continue from the last checkpoint.")
    if ss.get("lm_resume_error"):
        st.error(literal(ss.lm_resume_error))


def show_progress() -> None:
    """Live view of the session's job (reruns every second while it trains)."""
    current: SessionJob = ss.lm_job
    inner = current.job
    progress = read_progress(current.records)
    status = inner.status
    if status == "running":
        st.info(f"Training — stage **{progress.stage or 'starting'}**, step {progress.step}.")
    elif status == "finished":
        st.success("Finished. The win rates below are exact under the true preferences.")
    elif status == "stopped":
        reason = " (the browser session ended)" if current.stopped_for_session_end else ""
        st.warning(
            f"Stopped at stage {progress.stage}, step {progress.step}{reason}; the last checkpoint is kept: "
            "Resume training continues from it."
        )
    elif status == "failed":
        st.error(literal(inner.error or "The run failed."))
    draw(progress, inner)
    if ss.get("lm_was_running") and not current.running:
        ss.lm_was_running = False
        st.rerun()  # the whole page: the buttons and the timer follow the job's end
    ss.lm_was_running = current.running


def chart_or_note(figure: dict, key: str) -> None:
    """A figure, or a note while its data has not arrived yet."""
    if figure["data"]:
        chart(figure, key=key)
    else:
        st.caption("No data yet: this stage has not started.")


def draw(progress, inner) -> None:
    curves = progress.curves
    methods = [m for m in METHODS if m in curves]
    col1, col2 = st.columns(2)
    with col1:
        st.markdown("**Loss** of each stage (SFT, models, policies)")
        losses = {stage: c["loss"] for stage, c in curves.items() if "loss" in c}
        chart_or_note(metric_lines(losses, "loss", title="Training loss"), key="lm-loss")
    with col2:
        st.markdown("**KL to the reference** (sampled estimate of KL(π‖μ))")
        chart_or_note(
            metric_lines(
                {m: curves[m]["kl"] for m in methods if "kl" in curves[m]}, "KL(π ‖ μ)", title="KL to the reference"
            ),
            key="lm-kl",
        )
    col1, col2 = st.columns(2)
    with col1:
        st.markdown("**True win rate against the SFT model** (exact, from the answer distribution)")
        wins = {m: curves[m]["win_vs_sft"] for m in methods if "win_vs_sft" in curves[m]}
        chart_or_note(metric_lines(wins, "P(π ≻ SFT)", title="Win rate against SFT"), key="lm-win")
    with col2:
        st.markdown("**KL to the exact regularized Nash** at the chosen τ (with μ = the SFT model)")
        kls = {m: curves[m]["kl_to_nash"] for m in methods if "kl_to_nash" in curves[m]}
        chart_or_note(
            metric_lines(kls, "KL(regularized Nash ‖ π)", title="KL to the regularized Nash"), key="lm-kl-nash"
        )
    if progress.reference is not None:
        draw_answers(progress)
    rows = [[m, prompt, text] for m, pairs in progress.samples.items() for prompt, text in pairs]
    if rows:
        st.markdown("**Latest sampled responses**")
        st.dataframe(pd.DataFrame(rows, columns=["method", "prompt", "response"]), hide_index=True, key="lm-samples")
    if inner.summary is not None:
        summary = inner.summary
        game = open_game(ss.lm_config["task"]["game"])
        st.success(literal(verdict(summary, game.matrices, game.weights)))
        st.markdown("**Head to head under the true preferences**: P(row ≻ column)")
        names = summary["methods"]
        W = np.array([[summary["win_rates"][a][b] for b in names] for a in names])
        chart(win_rate_heatmap(names, W, title="Head to head under the true preferences"), key="lm-wins")
    if inner.status in ("finished", "stopped", "failed") and inner.out_dir.exists():
        if ss.get("lm_zip") is None:
            ss.lm_zip = zip_run_dir(inner.out_dir)
        st.download_button("Run directory (zip)", ss.lm_zip, "nlhf-lm-run.zip", "application/zip", key="lm-zip")


def draw_answers(progress) -> None:
    st.markdown(
        "**Answer distribution per prompt** (well-formed answers only): each method's path over the evaluations, "
        "the reference μ (■) and the exact regularized Nash (◆) of the game with μ as reference."
    )
    labels = progress.labels[:-1]
    prompt = 0
    if len(progress.prompts) > 1:
        chosen = st.radio("Prompt", progress.prompts, horizontal=True, key="lm-prompt")
        prompt = progress.prompts.index(chosen)
    markers = {
        "Reference": valid_share(progress.reference)[prompt],
        "regularized Nash": valid_share(progress.regularized_nash)[prompt],
    }
    latest = {m: valid_share(d)[prompt] for m, (_, d) in progress.distributions.items()}
    if len(labels) == 3:
        paths = {m: np.array([valid_share(d)[prompt] for d in history]) for m, history in progress.history.items()}
        chart(ternary_paths(labels, paths, markers), key="lm-simplex")
    else:
        chart(
            policy_bars(labels, {**markers, **latest}, title="Answer distribution (latest evaluation)"), key="lm-bars"
        )


if job is not None:
    st.fragment(show_progress, run_every=1.0 if running else None)()
else:
    st.caption("Nothing trained yet in this session: choose the settings and press **Start training**.")
