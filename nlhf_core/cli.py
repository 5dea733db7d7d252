"""The ``nlhf`` command line: JSON for scripts, readable tables for people.

Contract (../shared/DESIGN.md): ``GAME`` is a ``.csv``, a ``.json`` or ``preset:NAME``;
with ``--json`` every command prints one JSON object on stdout; errors go to stderr as
one sentence with a non-zero exit (2 for bad input, 1 for an internal error) and never
a traceback (set ``NLHF_DEBUG=1`` to see one).

Each subcommand is one ``_cmd_*`` function registered in :data:`COMMANDS`; adding a
command means writing its parser and its function.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .algorithms import get_algorithm, list_algorithms, run_algorithm
from .equilibria import nash_equilibrium, regularized_nash
from .errors import NLHFError, ParameterError
from .game_io import load_game
from .games import PreferenceGame
from .presets import list_presets

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1


# ---------------------------------------------------------------------- output helpers
def _jsonable(value: Any) -> Any:
    """numpy → Python; non-finite floats → None (JSON has no NaN/Infinity)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _emit_json(obj: dict[str, Any]) -> None:
    print(json.dumps(_jsonable(obj), ensure_ascii=False))


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [[_cell(c) for c in row] for row in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.6g}"
    return str(value)


def _policy_rows(game: PreferenceGame, policy: np.ndarray) -> list[list[Any]]:
    policy = np.atleast_2d(policy)
    if not game.has_contexts:
        return [[label, float(p)] for label, p in zip(game.labels, policy[0], strict=True)]
    return [
        [ctx, label, float(p)]
        for ctx, row in zip(game.contexts, policy, strict=True)
        for label, p in zip(game.labels, row, strict=True)
    ]


def _policy_header(game: PreferenceGame) -> list[str]:
    return ["context", "response", "probability"] if game.has_contexts else ["response", "probability"]


def _game_fields(game: PreferenceGame) -> dict[str, Any]:
    out: dict[str, Any] = {"labels": list(game.labels)}
    if game.has_contexts:
        out["contexts"] = list(game.contexts)
        out["weights"] = game.weights
    return out


# ---------------------------------------------------------------------- commands
def _cmd_presets(args: argparse.Namespace) -> None:
    presets = list_presets()
    if args.json:
        _emit_json(
            {
                "presets": [
                    {"name": p.name, "labels": list(p.labels), "contexts": list(p.contexts), "story": p.story}
                    for p in presets
                ]
            }
        )
        return
    for p in presets:
        ctx = f", contexts: {', '.join(p.contexts)}" if p.contexts else ""
        print(f"preset:{p.name}  ({len(p.labels)} responses{ctx})")
        print(f"    {p.story}\n")


def _cmd_algorithms(args: argparse.Namespace) -> None:
    specs = list_algorithms()
    if args.json:
        _emit_json({"algorithms": [s.as_dict() for s in specs]})
        return
    for s in specs:
        params = ", ".join(f"{p.name}={p.default}" for p in s.params)
        print(f"{s.name}: {s.title} — {s.summary}")
        print(f"    update: {s.update}")
        print(
            f"    converges to: {s.target} ({s.iterate} iterate); {s.queries_per_iteration} query/iteration"
        )
        print(f"    parameters: {params}")
        print(f"    cite: {s.citation}\n")


def _cmd_equilibrium(args: argparse.Namespace) -> None:
    game = load_game(args.game)
    if args.tau is None:
        if args.reference is not None:
            raise ParameterError(
                "--reference only matters with --tau (the regularized equilibrium); add --tau or "
                "drop --reference."
            )
        result = nash_equilibrium(game)
        out = {
            **_game_fields(game),
            "policy": result.policy,
            "tau": None,
            "exploitability": result.exploitability,
            "regularized_gap": None,
            "unique": result.unique,
            "selection": result.selection,
            "method": result.method,
        }
        title = "Nash equilibrium" + ("" if result.unique else " (not unique: maximum-entropy one)")
    else:
        reg = regularized_nash(game, args.tau, args.reference)
        out = {
            **_game_fields(game),
            "policy": reg.policy,
            "tau": reg.tau,
            "exploitability": reg.exploitability,
            "regularized_gap": reg.regularized_gap,
            "reference": reg.reference,
            "fixed_point_residual": reg.fixed_point_residual,
        }
        title = f"Regularized Nash equilibrium, tau = {reg.tau:g}"
    if args.json:
        _emit_json(out)
        return
    print(f"{title} of {game.name or args.game}\n")
    print(_table(_policy_rows(game, np.asarray(out["policy"])), _policy_header(game)))
    print(f"\nexploitability: {out['exploitability']:.3g}")
    if out["regularized_gap"] is not None:
        print(f"regularized duality gap: {out['regularized_gap']:.3g}")


def _cmd_solve(args: argparse.Namespace) -> None:
    game = load_game(args.game)
    spec = get_algorithm(args.algorithm)
    params = dict(_parse_params(args.param))
    for flag in ("tau", "eta", "schedule"):
        value = getattr(args, flag)
        if value is not None:
            if flag not in {p.name for p in spec.params}:
                raise ParameterError(f"{spec.title} has no parameter {flag}; drop --{flag}.")
            params[flag] = value
    traj = run_algorithm(
        spec.name,
        game,
        iterations=args.iterations,
        reference=args.reference,
        init=args.init,
        record_every=args.trajectory_every,
        **params,
    )
    final = traj.final_metrics()
    metrics = {k: final.get(k) for k in ("exploitability", "regularized_gap", "kl_to_equilibrium")}
    out: dict[str, Any] = {
        **_game_fields(game),
        "algorithm": spec.name,
        "params": {**traj.params, "seed": args.seed},
        "iterations": traj.iterations,
        "queries": traj.total_queries,
        "policy": traj.final_policy,
        "metrics": metrics,
    }
    if args.trajectory_every is not None:
        out["trajectory"] = [
            {
                "step": int(step),
                "queries": int(q),
                "policy": traj.policies[r, 0] if not game.has_contexts else traj.policies[r],
                **{k: float(v[r]) for k, v in traj.metrics.items()},
            }
            for r, (step, q) in enumerate(zip(traj.steps, traj.queries, strict=True))
        ]
    if args.json:
        _emit_json(out)
        return
    shown = ", ".join(f"{k}={v}" for k, v in traj.params.items())
    print(f"{spec.title} on {game.name or args.game}: {shown}")
    print(f"{traj.iterations} iterations, {traj.total_queries} preference queries\n")
    print(_table(_policy_rows(game, traj.final_policy), _policy_header(game)))
    print()
    for k, v in metrics.items():
        if v is not None:
            print(f"{k.replace('_', ' ')}: {v:.3g}")


def _parse_params(items: Sequence[str] | None) -> list[tuple[str, str]]:
    out = []
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param {item!r} is not NAME=VALUE; write e.g. --param eta=0.5.")
        out.append((key.strip(), value.strip()))
    return out


# ---------------------------------------------------------------------- parser
COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "presets": _cmd_presets,
    "algorithms": _cmd_algorithms,
    "equilibrium": _cmd_equilibrium,
    "solve": _cmd_solve,
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-sentence errors and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {message[0].upper()}{message[1:]}; see `{self.prog} --help`.\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``nlhf`` argument parser."""
    parser = _Parser(
        prog="nlhf",
        description="Nash Learning from Human Feedback: preference games, equilibria and solvers.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    p = sub.add_parser("presets", help="list the preset games")
    common(p)
    p = sub.add_parser("algorithms", help="list the registered solvers and their parameters")
    common(p)

    game_help = "a .csv or .json file, or preset:NAME (see `nlhf presets`)"
    p = sub.add_parser("equilibrium", help="exact Nash, or exact regularized Nash with --tau")
    p.add_argument("game", metavar="GAME", help=game_help)
    p.add_argument("--tau", type=float, help="KL-regularization strength (omit for the unregularized Nash)")
    p.add_argument("--reference", metavar="REF", help="reference policy: 'uniform' or a file")
    common(p)

    p = sub.add_parser("solve", help="run an iterative solver (see `nlhf algorithms`)")
    p.add_argument("game", metavar="GAME", help=game_help)
    p.add_argument("--algorithm", "-a", required=True, help="solver name, e.g. nash-md")
    p.add_argument("--tau", type=float, help="KL-regularization strength")
    p.add_argument("--eta", type=float, help="step size")
    p.add_argument("--schedule", help="step schedule (nash-md: constant or theorem)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="any other solver parameter")
    p.add_argument("--iterations", "-n", type=int, default=500, help="number of iterations (default 500)")
    p.add_argument("--reference", metavar="REF", help="reference policy: 'uniform' (default) or a file")
    p.add_argument(
        "--init", metavar="INIT", help="initial policy: 'uniform' or a file (default: the reference)"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (for stochastic solvers)")
    p.add_argument(
        "--trajectory-every",
        type=int,
        metavar="K",
        help="also output the policy and metrics every K iterations",
    )
    common(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nlhf`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except NLHFError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # one sentence, never a traceback, unless debugging
        if os.environ.get("NLHF_DEBUG"):
            raise
        print(
            f"error: internal error ({type(err).__name__}: {err}); please report it with the command "
            f"you ran (NLHF_DEBUG=1 shows the traceback).",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main())
