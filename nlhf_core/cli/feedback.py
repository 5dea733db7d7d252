"""``nlhf feedback simulate|fit|pipeline``: the human-feedback lab on the command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from nlhf_core.cli.arguments import (
    Subparsers,
    add_game_argument,
    add_json_flag,
    add_reference_argument,
)
from nlhf_core.cli.output import emit_json, per_context, table
from nlhf_core.errors import GameValidationError, ParameterError
from nlhf_core.feedback.annotators import AnnotatorPopulation, ComparisonDataset, simulate_comparisons
from nlhf_core.feedback.models import fit_preference_model, fit_reward_model, held_out_log_likelihood
from nlhf_core.feedback.pipeline import run_pipeline
from nlhf_core.games.presets import open_game

#: The pair sampling ``simulate`` and ``pipeline`` accept.
SAMPLING_HELP = "pairs to compare: uniform (default), reference, adaptive, or a policy/pair-matrix file"


def add_parser(subparsers: Subparsers) -> None:
    """Register ``feedback`` and its three steps (``simulate``, ``fit``, ``pipeline``) on the ``nlhf`` subparsers."""
    p = subparsers.add_parser("feedback", help="simulated annotators, fitted models, the NLHF vs RLHF pipeline")
    fsub = p.add_subparsers(dest="feedback_command", metavar="STEP", parser_class=type(p))
    fsub.required = True

    q = fsub.add_parser("simulate", help="draw a seeded dataset of comparisons from a true game")
    add_game_argument(q)
    q.add_argument("--samples", "-n", type=int, required=True, help="number of comparisons")
    q.add_argument("--sampling", metavar="S", help=SAMPLING_HELP)
    add_reference_argument(q, help="reference policy (for --sampling reference)")
    q.add_argument("--noise", type=float, default=0.0, help="probability that a label is flipped (default 0)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--out", metavar="FILE.csv", required=True, help="where to write the comparisons")
    add_json_flag(q)

    q = fsub.add_parser("fit", help="fit a preference model and a Bradley–Terry reward model to comparisons")
    add_game_argument(q, help="the game the comparisons are about (for labels and truth)")
    q.add_argument("data", metavar="FILE.csv", help="comparisons written by `nlhf feedback simulate`")
    q.add_argument("--held-out", type=float, default=0.2, help="fraction kept to score the models (default 0.2)")
    q.add_argument("--seed", type=int, default=0)
    add_json_flag(q)

    q = fsub.add_parser("pipeline", help="dataset → models → NLHF and RLHF policies → true exploitability")
    add_game_argument(q)
    q.add_argument("--samples", "-n", type=int, required=True, help="number of comparisons")
    q.add_argument("--sampling", metavar="S", help=SAMPLING_HELP)
    add_reference_argument(q)
    q.add_argument("--tau", type=float, default=0.1, help="KL strength of both policies (default 0.1)")
    q.add_argument("--noise", type=float, default=0.0, help="probability that a label is flipped (default 0)")
    q.add_argument("--seed", type=int, default=0)
    add_json_flag(q)


def run(args: argparse.Namespace) -> None:
    """Run ``nlhf feedback STEP``."""
    steps: dict[str, Callable[[argparse.Namespace], None]] = {
        "simulate": _simulate,
        "fit": _fit,
        "pipeline": _pipeline,
    }
    steps[args.feedback_command](args)


def _sampling(args: argparse.Namespace) -> str:
    return args.sampling or "uniform"


def _simulate(args: argparse.Namespace) -> None:
    """Draw the comparisons and write them as CSV."""
    out = _output_file(args.out)
    game = open_game(args.game)
    population = AnnotatorPopulation.of(game, noise=args.noise)
    data = simulate_comparisons(
        population, args.samples, sampling=_sampling(args), reference=args.reference, seed=args.seed
    )
    try:
        out.write_text(data.to_csv(), encoding="utf-8")
    except OSError as err:
        raise ParameterError(
            f"Cannot write {str(out)!r} ({err.strerror or type(err).__name__}); choose a file in a writable folder."
        ) from None
    _, total = data.win_counts()
    summary = {
        "labels": list(game.labels),
        "comparisons": len(data),
        "out": str(out),
        "counts": per_context(game, total),
    }
    if args.json:
        emit_json(summary)
        return
    print(f"Wrote {len(data)} comparisons of {game.name or args.game} to {out}.")


def _output_file(path: str) -> Path:
    """The ``--out`` file of ``simulate``, checked before any work is done."""
    out = Path(path)
    if out.suffix.lower() != ".csv":
        raise GameValidationError(f"Write comparisons to a .csv file, not {out.name!r}.")
    if not out.parent.is_dir():
        raise ParameterError(
            f"The folder {str(out.parent)!r} of --out does not exist; create it first, or write the "
            f"comparisons to an existing folder."
        )
    if out.is_dir():
        raise ParameterError(f"--out {str(out)!r} is a folder; give the path of a .csv file to write.")
    return out


def _fit(args: argparse.Namespace) -> None:
    """Fit both models on a training split and score them on the held-out comparisons."""
    game = open_game(args.game)
    path = Path(args.data)
    if not path.is_file():
        raise GameValidationError(
            f"There is no comparison file {str(path)!r}; write one with `nlhf feedback simulate`."
        )
    data = ComparisonDataset.from_csv(path.read_text(encoding="utf-8-sig"), game.labels, game.contexts)
    train, test = data.split(args.held_out, args.seed)
    pm = fit_preference_model(train, game)
    rm = fit_reward_model(train, game)
    log_likelihood = {
        "preference_model": held_out_log_likelihood(pm.matrix, test),
        "reward_model": held_out_log_likelihood(rm.predicted(), test),
    }
    out = {
        "labels": list(game.labels),
        "comparisons": len(data),
        "preference_model": {
            "matrix": per_context(game, pm.matrix),
            "lower": per_context(game, pm.lower),
            "upper": per_context(game, pm.upper),
        },
        "reward_model": {
            "rewards": per_context(game, rm.rewards),
            "standard_errors": per_context(game, rm.standard_errors),
            "warning": rm.warning,
        },
        "held_out_log_likelihood": log_likelihood,
    }
    if args.json:
        emit_json(out)
        return
    rows = [
        [label, float(r), float(e)]
        for label, r, e in zip(game.labels, rm.rewards[0], rm.standard_errors[0], strict=True)
    ]
    print(table(rows, ["response", "BT reward", "std. error"]))
    print(
        f"\nheld-out log-likelihood: preference model {log_likelihood['preference_model']:.4f}, "
        f"reward model {log_likelihood['reward_model']:.4f} (higher is better)"
    )


def _pipeline(args: argparse.Namespace) -> None:
    """Data → models → NLHF and RLHF policies, scored under the true preferences."""
    game = open_game(args.game)
    population = AnnotatorPopulation.of(game, noise=args.noise)
    r = run_pipeline(
        population, args.samples, tau=args.tau, sampling=_sampling(args), reference=args.reference, seed=args.seed
    )
    out = {
        "labels": list(game.labels),
        "comparisons": args.samples,
        "tau": args.tau,
        "sampling": _sampling(args),
        "preference_model": {"matrix": per_context(game, r.preference_model)},
        "reward_model": {"rewards": per_context(game, r.rewards)},
        "policies": {"nlhf": per_context(game, r.nlhf_policy), "rlhf": per_context(game, r.rlhf_policy)},
        "true_exploitability": r.true_exploitability,
        "nlhf_beats_rlhf": r.nlhf_beats_rlhf,
        "held_out_log_likelihood": r.held_out_log_likelihood,
    }
    if args.json:
        emit_json(out)
        return
    rows = [
        [label, float(a), float(b)] for label, a, b in zip(game.labels, r.nlhf_policy[0], r.rlhf_policy[0], strict=True)
    ]
    print(table(rows, ["response", "NLHF policy", "RLHF policy"]))
    print(f"\ntrue exploitability: NLHF {r.true_exploitability['nlhf']:.4f}, RLHF {r.true_exploitability['rlhf']:.4f}")
    print(f"the NLHF policy beats the RLHF policy {r.nlhf_beats_rlhf:.2%} of the time under the true preferences")
