"""``nlhf solve``: run one iterative solver (``nlhf algorithms`` lists them) and report where it ended.

The solver's update and target are in its registry entry (Nash-MD is Munos et al. 2024, Section 5,
eq. 5); the metrics are those of the iterate the solver's guarantee is about (last or average).
"""

from __future__ import annotations

import argparse
from typing import Any

from nlhf_core.algorithms import run_algorithm
from nlhf_core.algorithms.registry import AlgorithmSpec, get_solver
from nlhf_core.cli.arguments import (
    Subparsers,
    add_game_argument,
    add_iterations_argument,
    add_json_flag,
    add_param_argument,
    add_reference_argument,
    parse_params,
)
from nlhf_core.cli.output import emit_json, game_fields, per_context, print_summary
from nlhf_core.errors import ParameterError
from nlhf_core.games.presets import open_game

#: Parameters that have a flag of their own (the rest go through ``--param NAME=VALUE``).
FLAGGED_PARAMS = ("tau", "eta", "schedule")
#: The final metrics ``solve`` reports.
METRICS = ("exploitability", "regularized_gap", "kl_to_equilibrium")


def add_parser(subparsers: Subparsers) -> None:
    """Register ``solve`` on the ``nlhf`` subparsers."""
    parser = subparsers.add_parser("solve", help="run an iterative solver (see `nlhf algorithms`)")
    add_game_argument(parser)
    parser.add_argument("--algorithm", "-a", required=True, help="solver name, e.g. nash-md")
    parser.add_argument("--tau", type=float, help="KL-regularization strength")
    parser.add_argument("--eta", type=float, help="step size")
    parser.add_argument("--schedule", help="step schedule (nash-md: constant or theorem)")
    add_param_argument(parser)
    add_iterations_argument(parser, 500)
    add_reference_argument(parser)
    parser.add_argument("--init", metavar="INIT", help="initial policy: 'uniform' or a file (default: the reference)")
    parser.add_argument(
        "--samples", type=int, metavar="M", help="answer each query with M sampled comparisons per response"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the sampled comparisons")
    parser.add_argument(
        "--trajectory-every",
        type=int,
        metavar="K",
        help="also output the policy and metrics every K iterations",
    )
    add_json_flag(parser)


def run(args: argparse.Namespace) -> None:
    """Run the solver; print its final policy and metrics (and the trajectory with ``--trajectory-every``)."""
    game = open_game(args.game)
    spec = get_solver(args.algorithm)
    traj = run_algorithm(
        spec.name,
        game,
        iterations=args.iterations,
        reference=args.reference,
        init=args.init,
        record_every=args.trajectory_every,
        samples=args.samples,
        seed=args.seed,
        **_solver_params(spec, args),
    )
    final = traj.final_metrics()
    metrics = {k: final.get(k) for k in METRICS}
    out: dict[str, Any] = {
        **game_fields(game),
        "algorithm": spec.name,
        "params": {**traj.params, "seed": args.seed},
        "iterations": traj.iterations,
        "queries": traj.total_queries,
        "iterate": traj.iterate,
        "policy": per_context(game, traj.final_policy),
        "metrics": metrics,
    }
    if args.samples:
        out["comparisons"] = traj.comparisons
    if args.trajectory_every is not None:
        out["trajectory"] = traj.records(game.has_contexts)
    if args.json:
        emit_json(out)
        return
    steps = f"{traj.iterations} iterations"
    print_summary(spec.title, game, args.game, traj.params, steps, traj.total_queries, traj.final_policy, metrics)


def _solver_params(spec: AlgorithmSpec, args: argparse.Namespace) -> dict[str, Any]:
    """``--param`` items, then the flags the user gave (a flag the solver lacks is refused)."""
    params: dict[str, Any] = dict(parse_params(args.param))
    names = {p.name for p in spec.params}
    for flag in FLAGGED_PARAMS:
        value = getattr(args, flag)
        if value is not None:
            if flag not in names:
                raise ParameterError(f"{spec.title} has no parameter {flag}; drop --{flag}.")
            params[flag] = value
    return params
