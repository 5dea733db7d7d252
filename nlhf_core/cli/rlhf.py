"""``nlhf rlhf``: the RLHF baseline, a Bradley–Terry reward fit and its KL-regularized optimum.

The rewards ``r`` maximize the Bradley–Terry likelihood of the game's preferences under the chosen
pair sampling; the RLHF policy is ``pi(y) ∝ mu(y) exp(r(y) / tau)`` (Munos et al. 2024, Section 2).
It is compared with the Nash policy by its exploitability and by its win rate against it.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from nlhf_core.baselines.comparison import rlhf_solution
from nlhf_core.cli.arguments import (
    Subparsers,
    add_baseline_arguments,
    add_json_flag,
)
from nlhf_core.cli.output import emit_json, game_fields, per_context, policy_header, policy_rows, table
from nlhf_core.equilibria import nash_equilibrium
from nlhf_core.games.metrics import context_average, exploitability, win_rate
from nlhf_core.games.presets import open_game


def add_parser(subparsers: Subparsers) -> None:
    """Register ``rlhf`` on the ``nlhf`` subparsers."""
    parser = subparsers.add_parser("rlhf", help="Bradley–Terry reward fit and the RLHF policy pi ∝ mu exp(r/tau)")
    add_baseline_arguments(parser)
    add_json_flag(parser)


def run(args: argparse.Namespace) -> None:
    """Fit the rewards, form the RLHF policy, and print it with its exploitability and win rate against Nash."""
    game = open_game(args.game)
    rl = rlhf_solution(game, args.tau, args.reference, args.sampling)
    nash = nash_equilibrium(game).policy.reshape(rl.rlhf.shape)
    expl = float(context_average(exploitability(game.matrices, rl.rlhf), game.weights))
    vs_nash = float(context_average(win_rate(game.matrices, rl.rlhf, nash), game.weights))
    out = {
        **game_fields(game),
        "tau": args.tau,
        "sampling": args.sampling or "uniform",
        "rewards": per_context(game, rl.fit.scores),
        "policy": per_context(game, rl.rlhf),
        "exploitability": expl,
        "win_rate_vs_nash": vs_nash,
        "log_likelihood": rl.fit.log_likelihood,
        "bt_max_residual": rl.fit.max_residual,
        "separable": rl.fit.separable,
        "warning": rl.fit.warning,
    }
    if args.json:
        emit_json(out)
        return
    if rl.fit.warning:
        print(f"warning: {rl.fit.warning}", file=sys.stderr)
    print(f"RLHF on {game.name or args.game}: Bradley–Terry rewards (pairs: {out['sampling']}), tau = {args.tau:g}\n")
    rows = policy_rows(game, rl.rlhf)
    rewards = np.atleast_2d(rl.fit.scores).reshape(-1)
    print(
        table(
            [[*r[:-1], float(w), r[-1]] for r, w in zip(rows, rewards, strict=True)],
            [*policy_header(game)[:-1], "reward", "RLHF policy"],
        )
    )
    print(f"\nexploitability of the RLHF policy: {expl:.3g}")
    print(f"win rate of the RLHF policy against the Nash policy: {vs_nash:.4f}")
    print(f"largest Bradley–Terry misfit |P - sigmoid(r_i - r_j)|: {rl.fit.max_residual:.3g}")
