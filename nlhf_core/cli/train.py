"""``nlhf train``: the language-model pipeline (SFT → preference/reward models → Nash-MD-PG, Nash-EMA-PG,
self-play, RLHF → exact evaluation) from one TOML config, overridable on the command line.

torch and transformers are imported only when the command runs, so other commands stay fast.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import Any

from nlhf_core.cli.arguments import Subparsers, add_config_arguments, add_json_flag
from nlhf_core.cli.output import emit_json

SHORTCUTS = {
    "game": "task.game",
    "tau": "policy.tau",
    "beta": "policy.beta",
    "judge": "policy.judge",
    "seed": "run.seed",
    "device": "run.device",
    "model": "model.source",
    "prompts": "dataset.prompts",
    "sft_data": "dataset.sft",
    "pairs_data": "dataset.pairs",
}


def add_parser(subparsers: Subparsers) -> None:
    """Register ``train`` on the ``nlhf`` subparsers."""
    p = subparsers.add_parser(
        "train",
        help="train a small language model with NLHF (Nash-MD-PG, Nash-EMA-PG, self-play) and RLHF",
        description="Runs the whole pipeline into --out: SFT, sampled pairs labelled by simulated annotators, a "
        "preference model and a reward model, then every method in policy.methods, evaluated exactly under the true "
        "preferences. With --prompts FILE it trains on your prompts instead (optional --sft-data and --pairs-data; "
        "judged win rates on held-out prompts). With no arguments it runs the built-in 'default' config. Launch "
        "with `torchrun "
        "--nproc_per_node N -m nlhf_core.cli train ...` for several processes.",
    )
    add_config_arguments(
        p,
        out_help="run directory (default: runs/train-<time>)",
        set_help="override one setting, e.g. --set policy.tau=0.05 (repeatable; values are TOML literals)",
    )
    p.add_argument("--tau", type=float, help="shortcut for --set policy.tau=...")
    p.add_argument("--beta", type=float, help="shortcut for --set policy.beta=...")
    p.add_argument("--judge", help="shortcut for --set policy.judge=... (oracle, preference-model, module:callable)")
    p.add_argument(
        "--methods", metavar="A,B", help="comma-separated methods (rlhf, self-play, nash-md-pg, nash-ema-pg)"
    )
    p.add_argument("--seed", type=int, help="shortcut for --set run.seed=...")
    p.add_argument("--device", help="shortcut for --set run.device=... (auto, cpu, cuda, mps)")
    p.add_argument("--model", metavar="DIR", help="shortcut for --set model.source=... (a local Hugging Face model)")
    p.add_argument(
        "--prompts",
        metavar="FILE",
        help="train on your prompts: .jsonl ({'prompt': ...} or {'messages': [...]}), .parquet, .arrow or a "
        "datasets folder (shortcut for --set dataset.prompts=...)",
    )
    p.add_argument("--sft-data", metavar="FILE", help="prompt/response records for the SFT stage (dataset.sft)")
    p.add_argument(
        "--pairs-data", metavar="FILE", help="prompt/chosen/rejected records for the preference and reward models"
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    p.add_argument("--print-config", action="store_true", help="print the resolved config as TOML and exit")
    p.add_argument("--help-config", action="store_true", help="list every setting with its default and exit")
    add_json_flag(p)


def _overrides(args: argparse.Namespace) -> list[str]:
    """``--set`` items, then the shortcut flags and ``--methods`` as ``SECTION.KEY=VALUE`` overrides."""
    items = list(args.set)
    for name, key in SHORTCUTS.items():
        value = getattr(args, name)
        if value is not None:
            items.append(f"{key}={value!r}" if isinstance(value, str) else f"{key}={value}")
    if args.methods is not None:
        names = [m.strip() for m in args.methods.split(",") if m.strip()]
        items.append("policy.methods=[" + ", ".join(f'"{m}"' for m in names) + "]")
    return items


def run(args: argparse.Namespace) -> None:
    """Train (or resume) the run in ``--out`` and print each policy's win rate against SFT and KL to Nash."""
    from nlhf_core.llm.config import load_config
    from nlhf_core.llm.config_text import help_config, to_toml

    if args.help_config:
        print(help_config())
        return
    out = args.out or os.path.join("runs", time.strftime("train-%Y%m%d-%H%M%S"))
    stored = os.path.join(out, "config.toml")
    if args.resume and args.config is None and not _overrides(args) and os.path.isfile(stored):
        config = load_config(stored)  # `nlhf train --out DIR --resume` continues with the run's own settings
    else:
        config = load_config(args.config, _overrides(args))
    if args.print_config:
        print(to_toml(config), end="")
        return
    from nlhf_core.llm.api import run_training
    from nlhf_core.llm.runner import Stopped

    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():

        def on_interrupt(signum: int, frame: Any) -> None:  # first Ctrl-C: checkpoint and stop; second: abort
            if stop.is_set():
                raise KeyboardInterrupt
            stop.set()
            print("\nstopping after this step (Ctrl-C again to abort)...", file=sys.stderr)

        previous = signal.signal(signal.SIGINT, on_interrupt)
    rank0 = os.environ.get("RANK", "0") == "0"
    try:
        summary = run_training(
            config, out, resume=args.resume, stop_event=stop, progress=not args.quiet and sys.stderr.isatty()
        )
    except Stopped as err:
        if rank0:
            print(f"{err}; continue with `nlhf train --out {out} --resume`.", file=sys.stderr)
        raise KeyboardInterrupt from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if not rank0:
        return
    if args.json:
        emit_json({"out": out, **summary.to_dict()})
        return
    names = summary.methods
    print(f"run directory: {out}  (report.md, summary.json, metrics.jsonl, models/, checkpoints/)")
    if summary.kl_to_regularized_nash is None or summary.malformed_mass is None:
        _print_free_form(summary)
        return
    print(f"{'policy':<12} {'win vs SFT':>10} {'KL to Nash_tau':>15} {'malformed':>10}")
    for m in names:
        print(
            f"{m:<12} {summary.win_rate_vs_sft[m]:>10.3f} {summary.kl_to_regularized_nash[m]:>15.4f} "
            f"{summary.malformed_mass[m]:>10.4f}"
        )
    if summary.steps_per_s:
        print(
            f"policy optimization: {summary.steps_per_s:.2f} steps/s, {summary.samples_per_s:.0f} samples/s; "
            f"wall time {summary.wall_time_s:.1f} s"
        )


def _print_free_form(summary: Any) -> None:
    """Each policy's judged win rate against SFT (with its 95 % interval), sampled KL to SFT and length."""
    intervals, kl, length = summary.win_rate_intervals, summary.kl_to_reference, summary.mean_response_length
    print(f"{'policy':<12} {'win vs SFT (judged, 95% interval)':>34} {'KL to SFT':>10} {'tokens':>7}")
    for m in summary.methods:
        low, high = intervals[m]["sft"]
        cell = f"{summary.win_rate_vs_sft[m]:.3f} [{low:.3f}, {high:.3f}]"
        print(f"{m:<12} {cell:>34} {kl[m]:>10.4f} {length[m]:>7.1f}")
    print(f"on {summary.eval_prompts} held-out prompts; wall time {summary.wall_time_s:.1f} s")
