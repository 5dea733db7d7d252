"""Every registered solver: preference queries to tolerance and wall time; batched sweeps vs a loop.

Run: ``python benchmarks/bench_solvers.py`` (``make bench`` runs it after the exact solvers).
Writes benchmarks/solvers.md and benchmarks/solvers.json.

* For n = 10, 100, 1000 (one random game each, seed = n, uniform reference, tau = 0.1) each
  solver runs with its default parameters; we report the preference queries until its
  tolerance — ``KL(target || pi_t) <= 1e-8`` for solvers with a regularized target,
  exploitability ``<= 1e-3`` for those aiming at the unregularized Nash, read at every step (not
  on a recording grid) — and the wall time per 1000 iterations.
* The batched sweep: 400 settings (20 values of eta × 20 of tau) of Nash-MD, n = 10,
  1000 iterations, as one ``sweep`` call versus a Python loop of ``run_algorithm`` calls.
* Nash-MD's cost per iteration against a bare NumPy loop of one matrix-vector product.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from nlhf_core.algorithms import get_solver, list_solvers, run_algorithm
from nlhf_core.algorithms.engine import PreferenceOracle, run_solver
from nlhf_core.algorithms.sweep import sweep
from nlhf_core.games.game import PreferenceGame

HERE = Path(__file__).resolve().parent
TAU = 0.1


def random_game(n: int, seed: int) -> PreferenceGame:
    rng = np.random.default_rng(seed)
    P = np.triu(rng.random((n, n)), 1)
    P = P + np.tril(1.0 - P.T, -1)
    np.fill_diagonal(P, 0.5)
    return PreferenceGame.from_matrix(P)


def queries_to_tolerance(traj) -> int | None:
    if traj.target_kind == "regularized" or traj.target_kind == "reference-best-response":
        curve, tolerance = traj.metrics["kl_to_equilibrium"], 1e-8
    else:
        curve, tolerance = traj.metrics["exploitability"], 1e-3
    hit = np.flatnonzero(curve <= tolerance)
    return int(traj.queries[hit[0]]) if len(hit) else None


def engine_seconds(name: str, game: PreferenceGame, params: dict, iterations: int) -> float:
    """Wall time of the iterations alone (no target, no metrics): the engine's cost."""
    spec = get_solver(name)
    resolved = spec.resolve_params(params)
    log_mu = np.log(np.full((1, game.n), 1.0 / game.n))
    oracle = PreferenceOracle(game.matrices)
    start = time.perf_counter()
    run_solver(spec.solver(resolved, log_mu), oracle, log_mu, np.array([0, iterations]))
    return time.perf_counter() - start


def solver_rows(sizes: list[int], iterations: dict[int, int]) -> list[dict]:
    rows = []
    for n in sizes:
        game = random_game(n, n)
        for spec in list_solvers():
            params = {"tau": TAU} if "tau" in {p.name for p in spec.params} else {}
            T = iterations[n]
            # every step is recorded: the first step within tolerance is the count, not a grid point after it
            traj = run_algorithm(spec.name, game, iterations=T, record_every=1, **params)
            seconds = engine_seconds(spec.name, game, params, T)
            row = {
                "n": n,
                "solver": spec.name,
                "iterations": T,
                "queries_to_tolerance": queries_to_tolerance(traj),
                "final": traj.final_metrics(),
                "engine_seconds": seconds,
                "ms_per_1000_iterations": 1000 * seconds / T * 1000,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def sweep_comparison(settings_per_axis: int = 20, n: int = 10, iterations: int = 1000) -> dict:
    game = random_game(n, 7)
    etas = list(np.geomspace(0.01, 10, settings_per_axis))
    taus = list(np.geomspace(0.01, 1, settings_per_axis))
    start = time.perf_counter()
    batched = sweep("nash-md", game, etas=etas, taus=taus, iterations=iterations)
    t_batched = time.perf_counter() - start
    start = time.perf_counter()
    worst = 0.0
    for i, tau in enumerate(taus):
        for j, eta in enumerate(etas):
            if eta * tau > 1:
                continue
            single = run_algorithm("nash-md", game, eta=eta, tau=tau, iterations=iterations, record_every=iterations)
            worst = max(worst, float(np.abs(single.policies[-1] - batched.final_policies[i, j]).max()))
    t_loop = time.perf_counter() - start
    out = {
        "settings": len(etas) * len(taus),
        "n": n,
        "iterations": iterations,
        "batched_seconds": t_batched,
        "loop_seconds": t_loop,
        "speedup": t_loop / t_batched,
        "max_policy_difference": worst,
    }
    print(json.dumps(out), flush=True)
    return out


def per_iteration_cost(n: int, iterations: int = 2000) -> dict:
    game = random_game(n, 3)
    P = game.matrices
    pi = np.full((1, n), 1.0 / n)
    start = time.perf_counter()
    for _ in range(iterations):
        pi = np.matmul(P, pi[..., None])[..., 0]
        pi /= pi.sum()
    bare = (time.perf_counter() - start) / iterations
    ours = engine_seconds("nash-md", game, {}, iterations) / iterations
    out = {"n": n, "bare_matvec_us": bare * 1e6, "nash_md_us": ours * 1e6, "ratio": ours / bare}
    print(json.dumps(out), flush=True)
    return out


def render(machine: dict, rows: list[dict], swept: dict, costs: list[dict]) -> str:
    lines = [
        "# Solvers: queries to tolerance, wall time, batched sweeps",
        "",
        f"Machine: {machine['platform']}, {machine['cpus']} CPUs, Python {machine['python']}, NumPy "
        f"{machine['numpy']}. Random games (seed = n), uniform reference, tau = {TAU} where a solver has one, "
        "default parameters otherwise. Tolerance: KL(target || pi_t) <= 1e-8 for regularized targets, "
        "exploitability <= 1e-3 for the unregularized Nash, checked at every step. Generated by "
        "benchmarks/bench_solvers.py.",
        "",
        "| solver | "
        + " | ".join(f"n={n}: queries to tol. | ms / 1000 it." for n in sorted({r["n"] for r in rows}))
        + " |",
        "|---|" + "---|---|" * len({r["n"] for r in rows}),
    ]
    for name in dict.fromkeys(r["solver"] for r in rows):
        cells = []
        for r in (r for r in rows if r["solver"] == name):
            q = r["queries_to_tolerance"]
            cells.append(
                f"{'not within ' + str(r['iterations']) + ' it.' if q is None else q} | "
                f"{r['ms_per_1000_iterations']:.1f}"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"**Batched sweep**: {swept['settings']} settings of Nash-MD (n = {swept['n']}, {swept['iterations']} "
        f"iterations) in {swept['batched_seconds']:.2f} s as one batched computation versus "
        f"{swept['loop_seconds']:.1f} s as a Python loop of runs: **{swept['speedup']:.0f}× faster**, same "
        f"policies (largest difference {swept['max_policy_difference']:.1e}).",
        "",
        "**Nash-MD per iteration** versus a bare NumPy loop of one matrix-vector product:",
        "",
        "| n | bare P @ pi (µs) | Nash-MD iteration (µs) | ratio |",
        "|---|---|---|---|",
    ]
    for c in costs:
        lines.append(f"| {c['n']} | {c['bare_matvec_us']:.1f} | {c['nash_md_us']:.1f} | {c['ratio']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    rows = solver_rows([10, 100, 1000], {10: 20000, 100: 20000, 1000: 3000})
    swept = sweep_comparison()
    costs = [per_iteration_cost(n) for n in (10, 100, 1000)]
    machine = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    (HERE / "solvers.json").write_text(
        json.dumps({"machine": machine, "solvers": rows, "sweep": swept, "per_iteration": costs}, indent=1) + "\n"
    )
    (HERE / "solvers.md").write_text(render(machine, rows, swept, costs))


if __name__ == "__main__":
    main()
