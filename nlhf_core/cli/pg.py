"""``nlhf pg``: train a softmax policy with a parametric algorithm (Nash-MD-PG, Nash-EMA-PG, self-play, RLHF PG).

Prints the same keys as ``nlhf solve`` (``labels``, ``algorithm``, ``params``, ``iterations``,
``queries``, ``policy``, ``metrics``) plus the algorithm's stationary point and true win rates.
Nash-MD-PG is Munos et al. 2024, Section 7; torch is imported only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from nlhf_core.cli.arguments import (
    Subparsers,
    add_game_argument,
    add_json_flag,
    add_param_argument,
    add_reference_argument,
    parse_params,
)
from nlhf_core.cli.output import emit_json, game_fields, per_context, print_summary
from nlhf_core.games.presets import open_game
from nlhf_core.policy_gradient.registry import get_pg_algorithm

#: Parameters that have a flag of their own (the rest go through ``--param NAME=VALUE``).
FLAGGED_PARAMS = ("tau", "beta", "steps", "seed")
#: The final metrics every algorithm reports (each algorithm's own curves are added to them).
METRICS = ("exploitability", "regularized_gap", "kl_to_equilibrium", "kl_to_target")


def add_parser(subparsers: Subparsers) -> None:
    """Register ``pg`` on the ``nlhf`` subparsers."""
    p = subparsers.add_parser("pg", help="policy-gradient NLHF on a softmax policy (nash-md-pg, nash-ema-pg, ...)")
    add_game_argument(p)
    p.add_argument(
        "--algorithm", "-a", default="nash-md-pg", help="nash-md-pg (default), nash-ema-pg, self-play or rlhf"
    )
    p.add_argument("--tau", type=float, help="KL-regularization strength (default 0.1)")
    p.add_argument("--beta", type=float, help="mixture coefficient (nash-md-pg) or EMA coefficient (nash-ema-pg)")
    p.add_argument("--steps", "-n", type=int, help="gradient steps (default 1000)")
    p.add_argument("--seed", type=int, help="seed of the sampling and the random features (default 0)")
    add_param_argument(p, help="any other parameter (lr, batch_size, ...)")
    add_reference_argument(p)
    p.add_argument("--init", metavar="INIT", help="initial policy: 'uniform' or a file (default: the reference)")
    p.add_argument("--trajectory-every", type=int, metavar="K", help="also output the policy and metrics every K steps")
    add_json_flag(p)


def run(args: argparse.Namespace) -> None:
    """Train, then print JSON or a readable summary."""
    from nlhf_core.policy_gradient.training import train_policy_gradient  # torch loads only for this command

    game = open_game(args.game)
    algo = get_pg_algorithm(args.algorithm)
    params: dict[str, Any] = dict(parse_params(args.param))
    for flag in FLAGGED_PARAMS:
        value = getattr(args, flag)
        if value is not None:
            params[flag] = value
    result = train_policy_gradient(
        game, algo.name, reference=args.reference, init=args.init, record_every=args.trajectory_every, **params
    )
    traj = result.trajectory
    final = result.final_metrics()
    metrics = {k: final.get(k) for k in METRICS}
    metrics.update({k: final[k] for k in result.curves if k != "kl_to_target"})
    out: dict[str, Any] = {
        **game_fields(game),
        "algorithm": algo.name,
        "params": result.params,
        "iterations": traj.iterations,
        "queries": traj.total_queries,
        "iterate": "last",
        "policy": per_context(game, traj.final_policy),
        "metrics": metrics,
        "target": per_context(game, result.target),
        "regularized_nash": per_context(game, result.regularized),
    }
    if args.trajectory_every is not None:
        out["trajectory"] = traj.records(game.has_contexts, result.curves)
    if args.json:
        emit_json(out)
        return
    steps = f"{traj.iterations} steps"
    print_summary(algo.title, game, args.game, result.params, steps, traj.total_queries, traj.final_policy, metrics)
