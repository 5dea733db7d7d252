"""``report.md`` and ``figures.html`` of a run: win rates, distances to the tabular targets, curves.

The category task's report states exact numbers under the true preferences; the free-form task's
(your prompts, ``summary["task"] == "prompts"``) states judged estimates with their 95 % intervals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nlhf_core.files import atomic_write_text
from nlhf_core.llm.run_directory import METRICS, parse_metrics
from nlhf_core.viz.training import training_report_html


def _table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """Records of ``metrics.jsonl`` (a later record of the same stage and step replaces an earlier one; a torn
    last line is skipped, an invalid line before it is refused with its number)."""
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for rec in parse_metrics(Path(run_dir) / METRICS):
        seen[(rec.get("stage", ""), rec.get("step", 0))] = rec
    return list(seen.values())


def _figures(run_dir: Path, summary: dict[str, Any]) -> str:
    """Write ``figures.html`` (training curves, answer distributions; built by :mod:`nlhf_core.viz.training`)."""
    path = run_dir / "figures.html"
    atomic_write_text(path, training_report_html(read_metrics(run_dir), summary))
    return path.name


def _free_form_report(summary: dict[str, Any]) -> list[str]:
    """The sections of a free-form run: judged win rates with intervals, KL to SFT, lengths, examples."""
    names, W, CI = summary["methods"], summary["win_rates"], summary["win_rate_intervals"]
    cells = [[a] + [f"{W[a][b]:.3f} [{CI[a][b][0]:.2f}, {CI[a][b][1]:.2f}]" for b in names] for a in names]
    rows = [
        [m, f"{summary['kl_to_reference'][m]:.4f}", f"{summary['mean_response_length'][m]:.1f}",
         f"{summary['unfinished_fraction'][m]:.3f}"]
        for m in names
    ]  # fmt: skip
    parts = [
        f"## Judged win rates on {summary['eval_prompts']} held-out prompts (row beats column; mean and 95 % interval)",
        "",
        "Estimates: one sampled response per policy and prompt, judged by the run's judge in both orders.",
        "",
        _table(cells, ["", *names]),
        "",
        "## Distance to the reference and response lengths (sampled)",
        "",
        _table(rows, ["policy", "KL(policy ‖ sft), sampled", "mean tokens", "no EOS"]),
        "",
        "## Examples",
    ]
    for example in summary["examples"]:
        parts += ["", f"**Prompt:** {example['prompt']}", ""]
        parts += [f"- `{m}`: {text}" for m, text in example["responses"].items()]
    return parts


def write_report(run_dir: str | Path, summary: dict[str, Any]) -> None:
    """Write ``report.md`` and ``figures.html`` (``report.md`` only for the free-form task)."""
    run_dir = Path(run_dir)
    if summary.get("task") == "prompts":
        head = [
            "# NLHF language-model run on your prompts",
            "",
            f"Judge: `{summary['judge']}`; tau = {summary['tau']}, beta = {summary['beta']}; "
            f"device {summary['device']} × {summary['world_size']}; wall time {summary['wall_time_s']:.1f} s; "
            f"trained models in `models/<policy>/`.",
            "",
        ]
        atomic_write_text(run_dir / "report.md", "\n".join(head + _free_form_report(summary)) + "\n")
        return
    names = summary["methods"]
    W = summary["win_rates"]
    parts = [
        "# NLHF language-model run",
        "",
        f"Judge for the NLHF methods: `{summary['judge']}`; tau = {summary['tau']}, beta = {summary['beta']}; "
        f"device {summary['device']} × {summary['world_size']}; wall time {summary['wall_time_s']:.1f} s.",
        "",
        "## Win rates under the true preferences (exact; row beats column)",
        "",
        _table([[a] + [f"{W[a][b]:.3f}" for b in names] for a in names], ["", *names]),
        "",
        "## Distance to the tabular regularized Nash (extended game, SFT reference)",
        "",
        _table(
            [[m, f"{summary['kl_to_regularized_nash'][m]:.4f}", f"{summary['malformed_mass'][m]:.4f}"] for m in names],
            ["policy", "KL(Nash_tau ‖ policy)", "malformed mass"],
        ),
    ]
    if "rlhf" in summary:
        kl = summary["rlhf"]["kl_to_reward_optimum"]
        parts += [
            "",
            "## RLHF target: the reward model's KL-optimum (valid answers)",
            "",
            _table([[m, f"{kl[m]:.4f}"] for m in names], ["policy", "KL(optimum ‖ policy)"]),
        ]
    models = summary.get("models", {})
    for key in ("preference_model", "reward_model"):
        if key in models:
            q = models[key]
            parts += [
                "",
                f"{key.replace('_', ' ')}: held-out accuracy {q['held_out_accuracy']:.3f}, mean |P - "
                f"P_true| {q['mean_abs_error_vs_true_preference']:.3f} on {q['held_out_pairs']} pairs.",
            ]
    if summary.get("steps_per_s"):
        parts += [
            "",
            f"Policy optimization: {summary['steps_per_s']:.2f} steps/s, "
            f"{summary['samples_per_s']:.0f} sampled responses/s.",
        ]
    fig = _figures(run_dir, summary)
    if fig:
        parts += ["", f"Figures: [{fig}]({fig}) (training curves, answer distributions)."]
    atomic_write_text(run_dir / "report.md", "\n".join(parts) + "\n")
