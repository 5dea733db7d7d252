"""``nlhf study``: the paper's comparison (Munos et al. 2024, Section 8) as a pairwise win-rate matrix.

Trains SFT, RLHF, self-play, Nash-MD-PG for several ``beta`` and Nash-EMA-PG on the same data and
budget for every seed (see :mod:`nlhf_core.study.language_model`), then writes ``study.json``, ``study.csv``,
``study_cells.csv``, ``study.md``, ``study.svg`` and ``study.html`` into ``--out``.
torch is imported only when the command runs. ``--engine tabular`` predicts the same table exactly
(:mod:`nlhf_core.study`): no training, no torch.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from nlhf_core.cli.arguments import Subparsers, add_config_arguments, add_json_flag, parse_numbers
from nlhf_core.cli.output import emit_json
from nlhf_core.errors import ParameterError
from nlhf_core.study import resolve_settings, run_tabular_study, tabular_settings_from, write_study


def add_parser(subparsers: Subparsers) -> None:
    """Register ``study`` on the ``nlhf`` subparsers."""
    p = subparsers.add_parser(
        "study",
        help="the paper's comparison: every method over several seeds, pairwise win-rate matrix with intervals",
        description="Trains SFT, RLHF, self-play, Nash-MD-PG (one policy per --betas value) and Nash-EMA-PG on the "
        "same SFT model, pairs, preference and reward models for every seed, and writes the exact pairwise win-rate "
        "matrix under the true preferences (and under the learned preference model) with 95% Student-t intervals "
        "over seeds: study.json, study.csv, study_cells.csv, study.md, study.svg, study.html. Finished runs under "
        "--out are reused, so rerunning the same command continues an interrupted study.",
    )
    add_config_arguments(
        p,
        out_help="study directory (default: runs/study-<time>)",
        set_help="override one setting of every run, e.g. --set policy.steps=100 (repeatable)",
    )
    p.add_argument("--seeds", metavar="S,S", help="comma-separated seeds (default: 0,1,2; smoke: 0,1)")
    p.add_argument(
        "--betas",
        metavar="B,B",
        help="Nash-MD-PG mixture coefficients (default: 0.125,0.25,0.5; smoke: 0.125,0.5; "
        "paper-comparison: 0.25,0.5,0.75,1)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages")
    p.add_argument(
        "--engine",
        choices=("lm", "tabular"),
        default="lm",
        help="lm (default): train the language models; tabular: the exact tabular prediction of the same table "
        "(no training, no torch; data.pairs = 0 is the infinite-data limit; preset defaults, 10 seeds otherwise)",
    )
    add_json_flag(p)


def run(args: argparse.Namespace) -> None:
    """Run (or continue) the study in ``--out`` and print the win rates against SFT with their intervals."""
    if args.engine == "tabular":
        run_tabular(args)
        return
    from nlhf_core.study.language_model import run_study

    overrides = list(args.set)
    if args.game is not None:
        overrides.append(f"task.game={args.game!r}")
    out = args.out or os.path.join("runs", time.strftime("study-%Y%m%d-%H%M%S"))
    quiet = args.quiet or args.json

    def log(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    result = run_study(
        args.config,
        out,
        seeds=parse_numbers(args.seeds, int, "seeds"),
        betas=parse_numbers(args.betas, float, "betas"),
        overrides=overrides,
        progress=not quiet and sys.stderr.isatty(),
        log=log,
    )
    if args.json:
        emit_json({"out": out, **result.to_dict()})
        return
    names, W, low, high = result.methods, result.win_rates.mean, result.win_rates.low, result.win_rates.high
    width = max(len(m) for m in names)
    rlhf = names.index("rlhf")
    predicted = result.parameters.get("tabular_prediction")
    print(f"study directory: {out}  (study.json, study.csv, study.md, study.svg, study.html, runs/)")
    print(f"win rate vs SFT and vs RLHF under the true preferences, mean [95% t-interval] over seeds {result.seeds}")
    if predicted:
        print("(predicted: the tabular resting points of the runs' own learned preference and reward models)")
    for i, m in enumerate(names[1:], start=1):
        line = f"  {m:<{width}}  vs sft {W[i][0]:.3f} [{low[i][0]:.3f}, {high[i][0]:.3f}]"
        if i != rlhf:
            line += f"   vs rlhf {W[i][rlhf]:.3f} [{low[i][rlhf]:.3f}, {high[i][rlhf]:.3f}]"
            if predicted and m in predicted["methods"]:
                row, col = predicted["methods"].index(m), predicted["methods"].index("rlhf")
                line += f"  (predicted {predicted['win_rates'][row][col]:.3f})"
        print(line)
    print(f"wall time {result.wall_time_s:.1f} s")


def run_tabular(args: argparse.Namespace) -> None:
    """Run the tabular study of ``args`` and print its summary (or one JSON object with ``--json``)."""

    if args.config is not None:
        raise ParameterError(
            "The tabular engine reads its settings from --game and --set (over the preset's study defaults); "
            "--config picks training budgets of the language-model engine, so leave it out."
        )
    overrides = list(args.set)
    if args.game is not None:
        overrides.append(f"task.game={args.game!r}")
    values = resolve_settings(overrides)
    settings, game = tabular_settings_from(
        values, betas=parse_numbers(args.betas, float, "betas"), seeds=parse_numbers(args.seeds, int, "seeds")
    )
    result = run_tabular_study(settings)
    out = args.out or os.path.join("runs", time.strftime("study-tabular-%Y%m%d-%H%M%S"))
    data = write_study(result, out, game)
    if args.json:
        emit_json({"out": out, **data})
        return
    names, W, low, high = data["methods"], data["win_rates"], data["win_rates_ci_low"], data["win_rates_ci_high"]
    width = max(len(m) for m in names)
    rlhf = names.index("rlhf")
    where = f"mean [95% t-interval] over {len(settings.seeds)} seeds" if settings.seeds else "exact, infinite data"
    print(f"study directory: {out}  (study.json, study.csv, study.md, study.svg, study.html)")
    print(
        f"tabular study of {game}: tau = {settings.tau:g}, tau_R = {settings.rlhf_tau:g}, "
        f"data.pairs = {settings.pairs} ({'exact limit' if not settings.pairs else 'pairs from mu x mu'}), "
        f"noise = {settings.noise:g}"
    )
    print(f"win rate vs SFT and vs RLHF under the true preferences, {where}:")
    for i, m in enumerate(names[1:], start=1):
        vs_rlhf = "" if i == rlhf else f"   vs rlhf {W[i][rlhf]:.3f} [{low[i][rlhf]:.3f}, {high[i][rlhf]:.3f}]"
        print(f"  {m:<{width}}  vs sft {W[i][0]:.3f} [{low[i][0]:.3f}, {high[i][0]:.3f}]{vs_rlhf}")
    print(f"wall time {data['wall_time_s']:.2f} s")
