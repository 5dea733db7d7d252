"""``nlhf pg``: train a softmax policy with a policy-gradient method (Nash-MD-PG, Nash-EMA-PG, self-play, RLHF).

Prints the same keys as ``nlhf solve`` (``labels``, ``algorithm``, ``params``, ``iterations``,
``queries``, ``policy``, ``metrics``) plus the algorithm's stationary point and true win rates.
"""

from __future__ import annotations

import argparse
from typing import Any

from nlhf_core.games.policies import plain_view
from nlhf_core.games.presets import open_game


def add_parser(sub: Any, game_help: str, common: Any) -> None:
    """Register ``pg`` on the main parser's subparsers."""
    p = sub.add_parser("pg", help="policy-gradient NLHF on a softmax policy (nash-md-pg, nash-ema-pg, self-play, rlhf)")
    p.add_argument("game", metavar="GAME", help=game_help)
    p.add_argument(
        "--algorithm", "-a", default="nash-md-pg", help="nash-md-pg (default), nash-ema-pg, self-play or rlhf"
    )
    p.add_argument("--tau", type=float, help="KL-regularization strength (default 0.1)")
    p.add_argument("--beta", type=float, help="mixture coefficient (nash-md-pg) or EMA coefficient (nash-ema-pg)")
    p.add_argument("--steps", "-n", type=int, help="gradient steps (default 1000)")
    p.add_argument("--seed", type=int, help="seed of the sampling and the random features (default 0)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="any other parameter (lr, batch_size, ...)")
    p.add_argument("--reference", metavar="REF", help="reference policy: 'uniform' (default) or a file")
    p.add_argument("--init", metavar="INIT", help="initial policy: 'uniform' or a file (default: the reference)")
    p.add_argument("--trajectory-every", type=int, metavar="K", help="also output the policy and metrics every K steps")
    common(p)


def run(args: argparse.Namespace, emit: Any, print_summary: Any, parse_params: Any, game_fields: Any) -> None:
    """Train, then print JSON or a readable summary."""
    from nlhf_core.policy_gradient import get_pg_algorithm, train_policy_gradient  # torch loads only for this command

    game = open_game(args.game)
    algo = get_pg_algorithm(args.algorithm)
    params: dict[str, Any] = dict(parse_params(args.param))
    for flag in ("tau", "beta", "steps", "seed"):
        value = getattr(args, flag)
        if value is not None:
            params[flag] = value
    run_ = train_policy_gradient(
        game, algo.name, reference=args.reference, init=args.init, record_every=args.trajectory_every, **params
    )
    traj = run_.trajectory
    final = run_.final_metrics()
    metrics = {k: final.get(k) for k in ("exploitability", "regularized_gap", "kl_to_equilibrium", "kl_to_target")}
    metrics.update({k: final[k] for k in run_.curves if k != "kl_to_target"})
    out: dict[str, Any] = {
        **game_fields(game),
        "algorithm": algo.name,
        "params": run_.params,
        "iterations": traj.iterations,
        "queries": traj.total_queries,
        "iterate": "last",
        "policy": _squeeze(game, traj.final_policy),
        "metrics": metrics,
        "target": _squeeze(game, run_.target),
        "regularized_nash": _squeeze(game, run_.regularized),
    }
    if args.trajectory_every is not None:
        out["trajectory"] = traj.records(game.has_contexts, run_.curves)
    if args.json:
        emit(out)
        return
    steps = f"{traj.iterations} steps"
    print_summary(algo.title, game, args.game, run_.params, steps, traj.total_queries, traj.final_policy, metrics)


def _squeeze(game: Any, policy: Any) -> Any:
    return None if policy is None else plain_view(policy, game)
