"""``nlhf algorithms``: every registered method, tabular (``nlhf solve``) and policy-gradient (``nlhf pg``)."""

from __future__ import annotations

import argparse

from nlhf_core.algorithms.registry import AlgorithmSpec
from nlhf_core.cli.arguments import Subparsers, add_json_flag
from nlhf_core.cli.output import emit_json
from nlhf_core.registry import MethodSpec, list_algorithms


def add_parser(subparsers: Subparsers) -> None:
    """Register ``algorithms`` on the ``nlhf`` subparsers."""
    parser = subparsers.add_parser("algorithms", help="list the registered solvers and their parameters")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> None:
    """Print each method's update, target, parameters with defaults, and citation (both families, one list)."""
    specs = list_algorithms()
    if args.json:
        emit_json({"algorithms": [s.as_dict() for s in specs]})
        return
    for spec in specs:
        if isinstance(spec, AlgorithmSpec):
            _print_tabular(spec)
        else:
            _print_parametric(spec)


def _print_tabular(spec: AlgorithmSpec) -> None:
    params = ", ".join(f"{p.name}={p.default}" for p in spec.params)
    print(f"{spec.name}: {spec.title} — {spec.summary}")
    print(f"    update: {spec.update}")
    print(f"    converges to: {spec.target} ({spec.iterate} iterate); {spec.queries_per_iteration} query/iteration")
    print(f"    parameters: {params}")
    print(f"    cite: {spec.citation}\n")


def _print_parametric(spec: MethodSpec) -> None:
    params = ", ".join(f"{p.name}={p.default}" for p in spec.params)
    print(f"{spec.name}: {spec.title} (parametric, `nlhf pg`) — {spec.summary}")
    print(f"    converges to: {spec.target}")
    print(f"    parameters: {params}")
    print(f"    cite: {spec.citation}\n")
