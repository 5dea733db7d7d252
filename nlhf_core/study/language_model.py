"""The paper's comparison: every method on the same data and budget, over seeds, as a win-rate matrix.

Munos et al. (2024), Section 8 and Table 1 compare SFT, RLHF, self-play, Nash-MD-PG for several
mixture coefficients ``beta`` and Nash-EMA-PG by pairwise win rates. :func:`run_study` reproduces
that layout with the language-model pipeline of :mod:`nlhf_core.llm.trainer`:

* **Same data and budget.** For each seed ``s`` one run trains SFT, samples and labels the pairs,
  trains the preference and reward models and then every method (Nash-MD-PG with ``betas[0]``).
  Each further ``beta`` gets its own run directory seeded with *copies* of that run's finished
  ``sft`` and ``preference-model`` checkpoints and its ``data/pairs.safetensors``; the trainer
  loads finished stages (``done.json``) instead of retraining them, so only the Nash-MD-PG
  policy is trained there, against the same reference ``mu``, pairs and judge, with the same
  ``policy.steps`` and ``policy.batch_size`` as every other method.
* **Win rates** exact under the true game and under the learned preference model
  (:mod:`nlhf_core.llm.win_rates`), aggregated over seeds with Student-t intervals
  (:mod:`nlhf_core.study.results`).

Outputs in the study directory: ``study.json``, ``study.csv`` (the matrix: row beats column),
``study_cells.csv`` (one row per cell: mean, interval, preference-model mean, every seed),
``study.md`` (a Markdown table), ``study.svg`` (a dependency-free heatmap) and ``study.html``
(an interactive Plotly heatmap; plotly.js from its CDN), plus ``runs/seed-S/...`` (every run).
"""

from __future__ import annotations

import copy
import json
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from nlhf_core.errors import ParameterError
from nlhf_core.files import atomic_write_text
from nlhf_core.llm.api import ConfigSpec
from nlhf_core.llm.config import METHODS, TrainingConfig, load_config
from nlhf_core.llm.run_directory import carry_checksums
from nlhf_core.llm.summary import TrainingSummary
from nlhf_core.llm.win_rates import distributions, preference_model_matrices, reward_model_rewards, win_matrix
from nlhf_core.study.prediction import SeedPredictions, prediction_markdown
from nlhf_core.study.results import StudyResult, markdown_table, nash_md_name, write_results

#: Seeds, mixture coefficients and budget overrides of a study, per built-in config (others use ``default``).
#: The smoke study shrinks the ``smoke`` budgets further so that two seeds finish in CI in about a minute.
STUDY_DEFAULTS: dict[str, dict[str, list]] = {
    "default": {"seeds": [0, 1, 2], "betas": [0.125, 0.25, 0.5], "overrides": []},
    "smoke": {
        "seeds": [0, 1],
        "betas": [0.125, 0.5],
        "overrides": [
            "sft.steps=100",
            "data.pairs=512",
            "preference_model.steps=60",
            "preference_model.batch_size=32",
            "reward_model.steps=40",
            "reward_model.batch_size=32",
            "policy.steps=30",
            "policy.batch_size=16",
            "policy.lr=2e-3",
            "rlhf.lr=1e-3",
            "policy.eval_every=30",
            "run.checkpoint_every=100",
        ],
    },
    "paper-comparison": {"seeds": [0, 1, 2], "betas": [0.25, 0.5, 0.75, 1.0], "overrides": []},
}
#: Stages and data shared by every method of a seed (copied into the runs of the further betas).
SHARED = ("checkpoints/sft", "checkpoints/preference-model", "data")


def method_names(betas: Sequence[float], ema: bool = True) -> list[str]:
    """Rows/columns of the matrix, in the order of the paper's table: SFT, RLHF, self-play, Nash-MD-PG, Nash-EMA-PG
    (left out when ``ema`` is false: the config's ``policy.methods`` does not name it)."""
    return ["sft", "rlhf", "self-play", *(nash_md_name(b) for b in betas), *(["nash-ema-pg"] if ema else [])]


def study_methods(config: TrainingConfig) -> list[str]:
    """The trainer methods of a seed's first run: all of them, less Nash-EMA-PG when ``policy.methods`` omits it."""
    return [m for m in METHODS if m != "nash-ema-pg" or m in config.policy.methods]


def study_defaults(config: ConfigSpec) -> dict[str, list]:
    """Default seeds and betas for a config name (``smoke`` is small; everything else gets the full study)."""
    key = config if isinstance(config, str) and config in STUDY_DEFAULTS else "default"
    return copy.deepcopy(STUDY_DEFAULTS[key])


def _check(seeds: Sequence[int], betas: Sequence[float]) -> tuple[list[int], list[float]]:
    seeds, betas = [int(s) for s in seeds], [float(b) for b in betas]
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ParameterError(f"Seeds {seeds} must be distinct non-negative integers, at least one; e.g. --seeds 0,1,2.")
    if not betas or any(not 0.0 <= b <= 1.0 for b in betas) or len(set(betas)) != len(betas):
        raise ParameterError(f"Betas {betas} must be distinct numbers in [0, 1], at least one; e.g. --betas 0.125,0.5.")
    return seeds, betas


def _run(config: TrainingConfig, run_dir: Path, progress: bool) -> TrainingSummary:
    """One trainer run, reused when finished (``summary.json``) and resumed when interrupted."""
    from nlhf_core.llm.api import run_training

    done = run_dir / "summary.json"
    if done.exists():
        if load_config(run_dir / "config.toml") != config:
            raise ParameterError(
                f"{run_dir} holds a finished run with other settings; use a new --out directory for this study."
            )
        return TrainingSummary.from_dict(json.loads(done.read_text(encoding="utf-8")))
    return run_training(config, run_dir, resume=(run_dir / "config.toml").exists(), progress=progress)


def _seed_runs(
    base: TrainingConfig, seed: int, betas: list[float], root: Path, progress: bool, log: Callable[[str], None]
) -> tuple[dict[str, np.ndarray], TrainingConfig, float]:
    """Train every method for one seed; returns the policies' exact distributions, the seed's config and the
    training seconds (the runs' own wall times, so the figure survives a rerun that reuses finished runs)."""
    methods = study_methods(base)
    config = base.updated(run={"seed": seed}, policy={"methods": methods, "beta": betas[0]})
    base_dir = root / f"seed-{seed}" / "base"
    log(f"seed {seed}: SFT, pairs, preference and reward models, {', '.join(methods)} (beta={betas[0]:g})")
    summary = _run(config, base_dir, progress)
    trained = float(summary.wall_time_s)
    dists = distributions(summary)
    out = {"sft": dists["sft"], "rlhf": dists["rlhf"], "self-play": dists["self-play"]}
    out[nash_md_name(betas[0])] = dists["nash-md-pg"]
    for beta in betas[1:]:
        run_dir = root / f"seed-{seed}" / f"nash-md-pg-beta-{beta:g}"
        if not (run_dir / "summary.json").exists():
            for rel in SHARED:  # the seed's finished stages: the trainer loads them instead of retraining
                src, dst = base_dir / rel, run_dir / rel
                if src.exists() and not dst.exists():
                    shutil.copytree(src, dst)
            carry_checksums(base_dir, run_dir, SHARED)  # the copies are trusted as the originals were
        log(f"seed {seed}: nash-md-pg (beta={beta:g}) on the same SFT model, pairs and preference model")
        beta_config = config.updated(policy={"methods": ["nash-md-pg"], "beta": beta})
        beta_summary = _run(beta_config, run_dir, progress)
        trained += float(beta_summary.wall_time_s)
        beta_dists = distributions(beta_summary)
        if not np.allclose(beta_dists["sft"], dists["sft"], atol=1e-6):
            raise ParameterError(
                f"The run in {run_dir} does not share the SFT model of {base_dir}; delete it and rerun."
            )
        out[nash_md_name(beta)] = beta_dists["nash-md-pg"]
    if "nash-ema-pg" in dists:
        out["nash-ema-pg"] = dists["nash-ema-pg"]
    return out, config, trained


def run_study(
    config: ConfigSpec,
    out_dir: str | Path,
    *,
    seeds: Iterable[int] | None = None,
    betas: Iterable[float] | None = None,
    overrides: Iterable[str] = (),
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> StudyResult:
    """Run the comparison into ``out_dir`` and return what is written to ``study.json``.

    ``seeds`` and ``betas`` default to :func:`study_defaults` of the config name. The sub-runs
    use the config with ``run.seed``, ``policy.methods`` and ``policy.beta`` set by the study and
    ``eval.sampled_pairs = 0`` (the study's matrices are exact, the sampled check is redundant).
    Finished sub-runs are reused, so an interrupted study continues where it stopped; ``wall_time_s``
    is this call's time and ``training_seconds`` the sum of the runs' own wall times (stable under reuse).
    """
    from nlhf_core.games.presets import open_game
    from nlhf_core.llm.api import resolve_config
    from nlhf_core.llm.task import AnswerTask

    started = time.perf_counter()
    log = log or (lambda _msg: None)
    default = study_defaults(config)
    seeds, betas = _check(
        default["seeds"] if seeds is None else list(seeds), default["betas"] if betas is None else list(betas)
    )
    base = resolve_config(config, [*default["overrides"], *overrides]).updated(eval={"sampled_pairs": 0})
    if base.policy.judge not in ("oracle", "preference-model"):
        raise ParameterError("nlhf study needs policy.judge = 'preference-model' or 'oracle' (its runs are compared).")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    task = AnswerTask.from_game(open_game(base.task.game), base.task.prompt, base.task.hedges)
    P, rho = task.extended_matrices(), task.weights
    names = method_names(betas, ema="nash-ema-pg" in study_methods(base))
    true_w, pm_w, seconds = [], [], {}
    predictions = SeedPredictions(task.game, base.policy.tau, base.rlhf.tau, betas, task.prompts)
    for seed in seeds:
        dists, seed_config, secs = _seed_runs(base, seed, betas, out / "runs", progress, log)
        seconds[str(seed)] = secs
        D = [dists[m] for m in names]
        true_w.append(win_matrix(D, P, rho))
        base_dir = out / "runs" / f"seed-{seed}" / "base"
        Q = preference_model_matrices(base_dir, seed_config, task)
        if Q is not None:
            pm_w.append(win_matrix(D, Q, rho))
            rewards = reward_model_rewards(base_dir, seed_config, task)
            if rewards is not None:
                predictions.add(seed, dists, Q, rewards)
    shown = base.to_dict()
    shown["run"].pop("seed")
    shown["policy"].pop("methods")
    shown["policy"].pop("beta")
    result = StudyResult.from_seeds(
        names,
        seeds,
        true_w,
        pm_w,
        parameters={"betas": betas, **predictions.to_json()},
        config="default" if config is None else str(config) if isinstance(config, str | Path) else "custom",
        resolved_config=shown,
        training_seconds_per_seed=seconds,
        wall_time_s=time.perf_counter() - started,
    )
    data = write_results(out, result)
    if "tabular_prediction" in data:
        atomic_write_text(out / "study.md", markdown_table(data) + prediction_markdown(data))
    return result
