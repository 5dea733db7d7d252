"""Measure the work budget's constants: the CPU time of each kind of request next to its estimate.

    python scripts/measure_budget.py            # every case (a few minutes on a quiet 2-core machine)
    python scripts/measure_budget.py --quick    # the small cases only

Each case makes the core calls an app page makes for that request (same functions, the app's recording
interval) on a seeded random game, and reports its CPU time (one core, one BLAS thread: set below,
before NumPy loads) next to ``nlhf_core.budget``'s estimate. The ratio estimate / measured should stay
at or above ~0.7 (the estimate may overshoot; a request it accepts must finish within its budget).
Writes test-artifacts/budget.json.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlhf_core import budget  # noqa: E402
from nlhf_core.algorithms import get_algorithm, run_algorithm  # noqa: E402
from nlhf_core.algorithms.sweep import sweep  # noqa: E402
from nlhf_core.baselines.comparison import compare_solutions, rlhf_solution  # noqa: E402
from nlhf_core.equilibria import nash_equilibrium, regularized_nash  # noqa: E402
from nlhf_core.feedback.annotators import AnnotatorPopulation  # noqa: E402
from nlhf_core.feedback.pipeline import pipeline_curves, run_pipeline  # noqa: E402
from nlhf_core.games.game import PreferenceGame  # noqa: E402

FRAMES = budget.FRAMES


def random_game(n: int, seed: int = 0) -> PreferenceGame:
    """A seeded random preference game on ``n`` responses."""
    upper = np.triu(np.random.default_rng(seed).uniform(size=(n, n)), 1)
    P = upper + np.tril(1.0 - upper.T, -1)
    np.fill_diagonal(P, 0.5)
    return PreferenceGame.from_matrix(P, [f"y{i}" for i in range(n)])


def cpu_seconds(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def playground(n: int, iterations: int, samples: int | None, algorithm: str = "nash-md"):
    game = random_game(n)
    spec = get_algorithm(algorithm)

    def work() -> None:
        run_algorithm(
            algorithm, game, iterations=iterations, samples=samples, record_every=max(1, iterations // FRAMES)
        )
        nash_equilibrium(game)
        regularized_nash(game, 0.1)
        rlhf_solution(game, 0.1)

    estimate = budget.playground_work(
        game, iterations=iterations, queries_per_iteration=spec.queries_per_iteration, samples=samples
    )
    return f"playground n={n} {algorithm} iters={iterations} samples={samples}", estimate, work


def race(n: int, queries: int, solvers: int):
    game = random_game(n)
    names = ["nash-md", "nash-ema", "omd", "mwu", "nash-mp", "egpo", "mmd", "omwu", "fictitious-play", "replicator"]
    specs = [get_algorithm(name) for name in names[:solvers]]

    def work() -> None:
        for spec in specs:
            iterations = max(1, queries // spec.queries_per_iteration)
            run_algorithm(spec.name, game, iterations=iterations, record_every=max(1, iterations // FRAMES))

    estimate = budget.race_work(
        game, budget_queries=queries, queries_per_iteration=[s.queries_per_iteration for s in specs]
    )
    return f"race n={n} {solvers} solvers x {queries} queries", estimate, work


def sweeps(n: int, iterations: int, algorithm: str = "nash-md"):
    game = random_game(n)
    etas, taus = list(np.geomspace(0.01, 10, 12)), list(np.geomspace(0.01, 1, 12))
    q = get_algorithm(algorithm).queries_per_iteration
    estimate = budget.sweep_work(game, settings=144, iterations=iterations, taus=12, queries_per_iteration=q)
    return (
        f"sweep n={n} {algorithm} 144 settings x {iterations}",
        estimate,
        lambda: sweep(algorithm, game, etas=etas, taus=taus, iterations=iterations),
    )


def feedback(n: int, size: int, sampling: str):
    game = random_game(n)
    truth = AnnotatorPopulation.of(game)
    sizes = [30, 100, 300, 1000, 3000]

    def work() -> None:
        run_pipeline(truth, size, tau=0.1, sampling=sampling, seed=0)
        pipeline_curves(truth, sizes, seeds=range(5), tau=0.1, sampling=sampling)

    estimate = budget.feedback_lab_work(
        game,
        size=size,
        adaptive=sampling == "adaptive",
        curve_sizes=sizes,
        seeds=5,
        online_iterations=0,
        online_batch=0,
    )
    return f"feedback n={n} {size} {sampling}", estimate, work


def comparison(n: int):
    game = random_game(n)
    return f"comparison n={n}", budget.comparison_work(game), lambda: compare_solutions(game, 0.1, solvers=[])


def overlay(n: int, steps: int, batch: int):
    from nlhf_core.policy_gradient import train_policy_gradient

    game = random_game(n)
    train_policy_gradient(random_game(3), "nash-md-pg", steps=2, batch_size=2)  # torch's one-off start-up

    def work() -> None:
        train_policy_gradient(game, "nash-md-pg", steps=steps, batch_size=batch, record_every=max(1, steps // FRAMES))

    return (
        f"overlay n={n} {steps} steps x {batch}",
        budget.policy_gradient_work(game, steps=steps, batch_size=batch),
        work,
    )


QUICK = [
    lambda: playground(12, 20000, None),
    lambda: playground(12, 5000, 1000),
    lambda: playground(100, 2000, 10, "nash-mp"),
    lambda: race(12, 5000, 10),
    lambda: sweeps(30, 1000),
    lambda: sweeps(12, 5000, "egpo"),
    lambda: feedback(12, 30000, "adaptive"),
    lambda: comparison(300),
    lambda: overlay(12, 1000, 256),
]
FULL = [
    *QUICK,
    lambda: playground(300, 2000, None),
    lambda: playground(1000, 2000, None),
    lambda: race(100, 2000, 10),
    lambda: sweeps(100, 500),
    lambda: feedback(100, 30000, "uniform"),
    lambda: comparison(1000),
    lambda: overlay(300, 500, 64),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = []
    for make in QUICK if args.quick else FULL:
        name, estimate, work = make()
        measured = cpu_seconds(work)
        rows.append({"case": name, "estimate_s": round(estimate.seconds, 3), "measured_cpu_s": round(measured, 3)})
        rows[-1]["ratio"] = round(estimate.seconds / max(measured, 1e-9), 2)
        print(f"{name:48s} estimate {estimate.seconds:8.3f} s   measured {measured:8.3f} s   ratio {rows[-1]['ratio']}")
    out = {"budget_seconds": budget.BUDGET_SECONDS, "load_average": os.getloadavg(), "cases": rows}
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / "budget.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
