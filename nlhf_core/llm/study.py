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
* **Win rates under the true game (exact).** Every policy's answer-category distribution
  ``a_x`` is exact (teacher forcing, :mod:`nlhf_core.llm.evaluation`), hence so is
  ``W[A, B] = P(A ≻ B) = sum_x rho(x) a_x^T P_ext(x) b_x``, with ``W + W^T = 1`` and ``W[A, A] = 1/2``.
* **Win rates under the learned preference model.** The same formula with ``P_ext`` replaced by
  the preference model's category matrix ``Q(x)[i, j] = sigmoid(f(x, a_i, a_j) - f(x, a_j, a_i))``
  over the valid answers (antisymmetric by construction, so ``Q + Q^T = 1``); the malformed
  category keeps its true row (it loses to every answer and ties itself) because malformed text
  is a set of strings with no single model score.
* **Across seeds.** The mean matrix and a two-sided 95 % Student-t interval per cell,
  ``mean ± t_{0.975, n-1} s / sqrt(n)`` over the ``n`` seeds (clipped to ``[0, 1]``; ``low = high
  = mean`` when ``n = 1``). The mean is made exactly complementary (``W[B, A] = 1 - W[A, B]``) and
  so is the interval (``low[B, A] = 1 - high[A, B]``), as the t-interval of ``1 - W`` is.

Outputs in the study directory: ``study.json``, ``study.csv`` (the matrix: row beats column),
``study_cells.csv`` (one row per cell: mean, interval, preference-model mean, every seed),
``study.md`` (a Markdown table), ``study.svg`` (a dependency-free heatmap) and ``study.html``
(an interactive Plotly heatmap; plotly.js from its CDN), plus ``runs/seed-S/...`` (every run).
"""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlhf_core.errors import ParameterError
from nlhf_core.llm import config as cfgmod
from nlhf_core.viz.study import study_heatmap_html, study_heatmap_svg

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
}
#: Stages and data shared by every method of a seed (copied into the runs of the further betas).
SHARED = ("checkpoints/sft", "checkpoints/preference-model", "data")
CONFIDENCE = 0.95


def nash_md_name(beta: float) -> str:
    """Display name of the Nash-MD-PG policy with mixture coefficient ``beta``, e.g. ``nash-md-pg(beta=0.125)``."""
    return f"nash-md-pg(beta={beta:g})"


def method_names(betas: Sequence[float]) -> list[str]:
    """Rows/columns of the matrix, in the order of the paper's table: SFT, RLHF, self-play, Nash-MD-PG, Nash-EMA-PG."""
    return ["sft", "rlhf", "self-play", *(nash_md_name(b) for b in betas), "nash-ema-pg"]


def study_defaults(config: Any) -> dict[str, list]:
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


# ---------------------------------------------------------------------- matrices
def _distributions(summary: dict[str, Any]) -> dict[str, np.ndarray]:
    """``(C, n+1)`` exact answer distributions of every policy of a run's ``summary.json``."""
    prompts, labels = summary["prompts"], summary["labels"]
    return {
        m: np.array([[d[x][lab] for lab in labels] for x in prompts], dtype=float)
        for m, d in summary["answer_distributions"].items()
    }


def win_matrix(dists: Sequence[np.ndarray], P: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``W[a, b] = sum_x rho(x) d_a(x)^T P(x) d_b(x)``, made exactly complementary (``W + W^T = 1``).

    ``P`` is ``(C, k, k)`` with ``P + P^T = 1`` per context; the upper triangle is computed and
    the lower one set to ``1 - W^T`` so rounding never breaks the identity; the diagonal is 1/2.
    """
    D = np.stack(dists)  # (M, C, k)
    W = np.einsum("c,aci,cij,bcj->ab", rho, D, P, D)
    upper = np.triu(W, 1)
    W = upper + np.tril(1.0 - upper.T, -1)
    np.fill_diagonal(W, 0.5)
    return W


def preference_model_matrices(run_dir: Path, cfg: dict[str, Any], task: Any) -> np.ndarray | None:
    """``(C, n+1, n+1)``: the trained preference model's ``P(i ≻ j | x)`` on the valid answers, true malformed rows.

    ``None`` when the run trained no preference model (``preference_model.steps = 0``).
    """
    path = run_dir / "checkpoints" / "preference-model" / "model.safetensors"
    if not path.exists():
        return None
    import torch

    from nlhf_core.llm.judges import PreferenceModelJudge
    from nlhf_core.llm.models import PreferenceModel, load_codec
    from nlhf_core.llm.runtime import load_weights

    codec = load_codec(cfg["model"]["source"], task.words())
    pm_cfg = cfg["preference_model"]
    pm = PreferenceModel(codec.vocab_size, pm_cfg["n_layer"], pm_cfg["n_embd"], codec.eos_id, codec.pad_id)
    load_weights(pm, path)
    pm.eval()
    judge = PreferenceModelJudge(pm, codec, torch.device("cpu"))
    n = task.n
    Q = task.extended_matrices().copy()
    for c, prompt in enumerate(task.prompts):
        a = [task.answers[i] for i in range(n) for _ in range(n)]
        b = [task.answers[j] for _ in range(n) for j in range(n)]
        Q[c, :n, :n] = np.asarray(judge([prompt] * (n * n), a, b), dtype=float).reshape(n, n)
    return Q


def t_interval(samples: np.ndarray, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and two-sided Student-t interval over axis 0: ``mean ± t_{(1+c)/2, n-1} s / sqrt(n)``, clipped to [0, 1]."""
    n = samples.shape[0]
    mean = samples.mean(axis=0)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    from scipy import stats

    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * samples.std(axis=0, ddof=1) / math.sqrt(n)
    return mean, np.clip(mean - half, 0.0, 1.0), np.clip(mean + half, 0.0, 1.0)


def aggregate(per_seed: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Mean matrix and 95 % t-interval over seeds, each exactly complementary (``low[b, a] = 1 - high[a, b]``)."""
    mean, low, high = t_interval(np.stack(per_seed))
    iu = np.triu_indices(mean.shape[0], 1)
    M, L, H = np.full_like(mean, 0.5), np.full_like(mean, 0.5), np.full_like(mean, 0.5)
    M[iu], L[iu], H[iu] = mean[iu], low[iu], high[iu]
    M.T[iu], L.T[iu], H.T[iu] = 1.0 - mean[iu], 1.0 - high[iu], 1.0 - low[iu]
    return {"mean": M, "low": L, "high": H}


# ---------------------------------------------------------------------- runs
def _run(cfg: dict[str, Any], run_dir: Path, progress: bool) -> dict[str, Any]:
    """One trainer run, reused when finished (``summary.json``) and resumed when interrupted."""
    from nlhf_core.llm.api import run_training

    done = run_dir / "summary.json"
    if done.exists():
        if cfgmod.load_config(run_dir / "config.toml") != cfg:
            raise ParameterError(
                f"{run_dir} holds a finished run with other settings; use a new --out directory for this study."
            )
        return json.loads(done.read_text(encoding="utf-8"))
    return run_training(cfg, run_dir, resume=(run_dir / "config.toml").exists(), progress=progress)


def _seed_runs(
    base_cfg: dict[str, Any], seed: int, betas: list[float], root: Path, progress: bool, log: Callable[[str], None]
) -> tuple[dict[str, np.ndarray], dict[str, Any], float]:
    """Train every method for one seed; returns the policies' exact distributions, the base config and the
    training seconds (the runs' own wall times, so the figure survives a rerun that reuses finished runs)."""
    cfg = copy.deepcopy(base_cfg)
    cfg["run"]["seed"] = seed
    cfg["policy"]["methods"] = list(cfgmod.METHODS)
    cfg["policy"]["beta"] = betas[0]
    cfg = cfgmod.validate(cfg)
    base = root / f"seed-{seed}" / "base"
    log(f"seed {seed}: SFT, pairs, preference and reward models, {', '.join(cfgmod.METHODS)} (beta={betas[0]:g})")
    summary = _run(cfg, base, progress)
    trained = float(summary["wall_time_s"])
    dists = _distributions(summary)
    out = {"sft": dists["sft"], "rlhf": dists["rlhf"], "self-play": dists["self-play"]}
    out[nash_md_name(betas[0])] = dists["nash-md-pg"]
    for beta in betas[1:]:
        run_dir = root / f"seed-{seed}" / f"nash-md-pg-beta-{beta:g}"
        if not (run_dir / "summary.json").exists():
            for rel in SHARED:  # the seed's finished stages: the trainer loads them instead of retraining
                src, dst = base / rel, run_dir / rel
                if src.exists() and not dst.exists():
                    shutil.copytree(src, dst)
        sub = copy.deepcopy(cfg)
        sub["policy"]["methods"], sub["policy"]["beta"] = ["nash-md-pg"], beta
        log(f"seed {seed}: nash-md-pg (beta={beta:g}) on the same SFT model, pairs and preference model")
        beta_summary = _run(cfgmod.validate(sub), run_dir, progress)
        trained += float(beta_summary["wall_time_s"])
        beta_dists = _distributions(beta_summary)
        if not np.allclose(beta_dists["sft"], dists["sft"], atol=1e-6):
            raise ParameterError(f"The run in {run_dir} does not share the SFT model of {base}; delete it and rerun.")
        out[nash_md_name(beta)] = beta_dists["nash-md-pg"]
    out["nash-ema-pg"] = dists["nash-ema-pg"]
    return out, cfg, trained


def run_study(
    config: str | Path | dict[str, Any] | None,
    out_dir: str | Path,
    *,
    seeds: Iterable[int] | None = None,
    betas: Iterable[float] | None = None,
    overrides: Iterable[str] = (),
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
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
    base_cfg = resolve_config(config, [*default["overrides"], *overrides])
    base_cfg["eval"]["sampled_pairs"] = 0
    if base_cfg["policy"]["judge"] not in ("oracle", "preference-model"):
        raise ParameterError("nlhf study needs policy.judge = 'preference-model' or 'oracle' (its runs are compared).")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    task = AnswerTask.from_game(
        open_game(base_cfg["task"]["game"]), base_cfg["task"]["prompt"], base_cfg["task"]["hedges"]
    )
    P, rho = task.extended_matrices(), task.weights
    names = method_names(betas)
    true_w, pm_w, seconds = [], [], {}
    for seed in seeds:
        dists, cfg, secs = _seed_runs(base_cfg, seed, betas, out / "runs", progress, log)
        seconds[str(seed)] = secs
        D = [dists[m] for m in names]
        true_w.append(win_matrix(D, P, rho))
        Q = preference_model_matrices(out / "runs" / f"seed-{seed}" / "base", cfg, task)
        if Q is not None:
            pm_w.append(win_matrix(D, Q, rho))
    true_agg = aggregate(true_w)
    pm_agg = aggregate(pm_w) if pm_w else None
    shown = copy.deepcopy(base_cfg)
    shown["run"].pop("seed")
    shown["policy"].pop("methods")
    shown["policy"].pop("beta")
    result: dict[str, Any] = {
        "methods": names,
        "win_rates": true_agg["mean"].tolist(),
        "win_rates_ci_low": true_agg["low"].tolist(),
        "win_rates_ci_high": true_agg["high"].tolist(),
        "win_rates_preference_model": None if pm_agg is None else pm_agg["mean"].tolist(),
        "win_rates_preference_model_ci_low": None if pm_agg is None else pm_agg["low"].tolist(),
        "win_rates_preference_model_ci_high": None if pm_agg is None else pm_agg["high"].tolist(),
        "interval": f"two-sided {CONFIDENCE:.0%} Student-t over seeds (mean ± t_(0.975, n-1) s/sqrt(n)), clipped",
        "orientation": "win_rates[i][j] = P(methods[i] beats methods[j]) under the true preferences (exact)",
        "seeds": seeds,
        "betas": betas,
        "per_seed": {
            str(s): {"win_rates": w.tolist(), "win_rates_preference_model": pm_w[k].tolist() if pm_w else None}
            for k, (s, w) in enumerate(zip(seeds, true_w, strict=True))
        },
        "config": "default" if config is None else str(config) if isinstance(config, str | Path) else "custom",
        "resolved_config": shown,
        "training_seconds_per_seed": seconds,
        "training_seconds": sum(seconds.values()),
        "wall_time_s": time.perf_counter() - started,
    }
    write_outputs(out, result)
    return result


# ---------------------------------------------------------------------- outputs
def write_outputs(out: Path, result: dict[str, Any]) -> None:
    """``study.json``, ``study.csv``, ``study_cells.csv``, ``study.md``, ``study.svg`` and ``study.html``.

    Shared by both engines of ``nlhf study`` (the tabular one imports no torch, so neither may this).
    """
    names = result["methods"]
    W, L, H = (np.array(result[k]) for k in ("win_rates", "win_rates_ci_low", "win_rates_ci_high"))
    Q = result["win_rates_preference_model"]
    _write_text(out / "study.json", json.dumps(result, indent=2, sort_keys=False) + "\n")
    with open(out / "study.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row beats column", *names])
        for i, m in enumerate(names):
            w.writerow([m, *(repr(float(v)) for v in W[i])])
    seeds = [str(s) for s in result["seeds"]]
    with open(out / "study_cells.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["row", "column", "win_rate", "ci_low", "ci_high", "preference_model", *(f"seed_{s}" for s in seeds)]
        )
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                per = [result["per_seed"][s]["win_rates"][i][j] for s in seeds]
                pm = "" if Q is None else repr(float(Q[i][j]))
                w.writerow(
                    [a, b, repr(float(W[i, j])), repr(float(L[i, j])), repr(float(H[i, j])), pm, *map(repr, per)]
                )
    _write_text(out / "study.md", markdown_table(result))
    _write_text(out / "study.svg", heatmap_svg(result))
    _write_text(out / "study.html", heatmap_html(result))


def _write_text(path: Path, text: str) -> None:
    """Atomic write (temp file + ``os.replace``), as :func:`nlhf_core.llm.runtime.atomic_write_text` without torch."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def markdown_table(result: dict[str, Any]) -> str:
    """The matrix as a Markdown table, cells ``mean [low, high]`` (row beats column)."""
    names = result["methods"]
    W, L, H = (result[k] for k in ("win_rates", "win_rates_ci_low", "win_rates_ci_high"))
    lines = ["| row beats column | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for i, m in enumerate(names):
        cells = ["—" if i == j else f"{W[i][j]:.3f} [{L[i][j]:.2f}, {H[i][j]:.2f}]" for j in range(len(names))]
        lines.append(f"| **{m}** | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def heatmap_svg(result: dict[str, Any]) -> str:
    """A static heatmap (no dependency): row beats column, mean and 95 % interval in every cell."""
    return study_heatmap_svg(result)


def heatmap_html(result: dict[str, Any]) -> str:
    """Interactive Plotly heatmaps (true preferences, and the learned preference model when trained)."""
    return study_heatmap_html(result)
