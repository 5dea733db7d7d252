"""``nlhf study``: the paper's comparison (Munos et al. 2024, Section 8) as a pairwise win-rate matrix.

Trains SFT, RLHF, self-play, Nash-MD-PG for several ``beta`` and Nash-EMA-PG on the same data and
budget for every seed (see :mod:`nlhf_core.llm.study`), then writes ``study.json``, ``study.csv``,
``study_cells.csv``, ``study.md``, ``study.svg`` and ``study.html`` into ``--out``.
torch is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from nlhf_core.cli.train import add_config_arguments
from nlhf_core.errors import ParameterError


def add_parser(sub: Any, game_help: str, common: Any) -> None:
    """Register ``study`` on the main parser's subparsers."""
    p = sub.add_parser(
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
        game_help,
        out_help="study directory (default: runs/study-<time>)",
        set_help="override one setting of every run, e.g. --set policy.steps=100 (repeatable)",
    )
    p.add_argument("--seeds", metavar="S,S", help="comma-separated seeds (default: 0,1,2; smoke: 0,1)")
    p.add_argument(
        "--betas", metavar="B,B", help="Nash-MD-PG mixture coefficients (default: 0.125,0.25,0.5; smoke: 0.125,0.5)"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages")
    common(p)


def _numbers(text: str | None, kind: type, what: str) -> list | None:
    if text is None:
        return None
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ParameterError(
            f"--{what} {text!r} is not a comma-separated list of numbers; e.g. --{what} 0,1."
        ) from None


def run(args: argparse.Namespace, emit_json: Any) -> None:
    """Dispatch ``nlhf study``."""
    from nlhf_core.llm.study import run_study

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
        seeds=_numbers(args.seeds, int, "seeds"),
        betas=_numbers(args.betas, float, "betas"),
        overrides=overrides,
        progress=not quiet and sys.stderr.isatty(),
        log=log,
    )
    if args.json:
        emit_json({"out": out, **result.to_dict()})
        return
    names, W, low, high = result.methods, result.win_rates.mean, result.win_rates.low, result.win_rates.high
    width = max(len(m) for m in names)
    print(f"study directory: {out}  (study.json, study.csv, study.md, study.svg, study.html, runs/)")
    print(f"win rate vs SFT under the true preferences, mean [95% t-interval] over seeds {result.seeds}:")
    for i, m in enumerate(names[1:], start=1):
        print(f"  {m:<{width}}  {W[i][0]:.3f} [{low[i][0]:.3f}, {high[i][0]:.3f}]")
    print(f"wall time {result.wall_time_s:.1f} s")
