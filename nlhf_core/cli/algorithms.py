"""``nlhf algorithms``: every registered solver, tabular (``nlhf solve``) and parametric (``nlhf pg``)."""

from __future__ import annotations

import argparse

from nlhf_core.algorithms.registry import AlgorithmSpec, list_algorithms
from nlhf_core.cli.arguments import Subparsers, add_json_flag
from nlhf_core.cli.output import emit_json
from nlhf_core.policy_gradient.registry import PG_ALGORITHMS, PGAlgorithm, pg_params


def add_parser(subparsers: Subparsers) -> None:
    """Register ``algorithms`` on the ``nlhf`` subparsers."""
    parser = subparsers.add_parser("algorithms", help="list the registered solvers and their parameters")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> None:
    """Print each algorithm's update, target, parameters with defaults, and citation."""
    specs = list_algorithms()
    if args.json:
        emit_json({"algorithms": [s.as_dict() for s in specs] + [a.as_dict() for a in PG_ALGORITHMS.values()]})
        return
    for spec in specs:
        _print_tabular(spec)
    for algo in PG_ALGORITHMS.values():
        _print_parametric(algo)


def _print_tabular(spec: AlgorithmSpec) -> None:
    params = ", ".join(f"{p.name}={p.default}" for p in spec.params)
    print(f"{spec.name}: {spec.title} — {spec.summary}")
    print(f"    update: {spec.update}")
    print(f"    converges to: {spec.target} ({spec.iterate} iterate); {spec.queries_per_iteration} query/iteration")
    print(f"    parameters: {params}")
    print(f"    cite: {spec.citation}\n")


def _print_parametric(algo: PGAlgorithm) -> None:
    params = ", ".join(f"{p.name}={p.default}" for p in pg_params(algo))
    print(f"{algo.name}: {algo.title} (parametric, `nlhf pg`) — {algo.summary}")
    print(f"    converges to: {algo.target}")
    print(f"    parameters: {params}")
    print(f"    cite: {algo.citation}\n")
