"""Exact Nash against plain HiGHS, game class by game class (part of the exact section).

The size sweep of :mod:`benchmarks.bench_exact` uses random games, where every method has an easy
time. Here each class the tests and benchmarks know is timed against ``scipy.optimize.linprog``
(HiGHS) game by game, ours and HiGHS alternating within each repeat (medians), and every answer of
ours is certified (exploitability ``<= 1e-9``; its uniqueness verdict is recorded):

* **random**: upper triangle uniform on [0, 1];
* **clone-and-perturb**: a random game with cloned responses (several equilibria), perturbed by
  ``1e-12 ... 1e-6`` (one equilibrium again, possibly far from the clones' ones): the near-degenerate
  games of issue 19;
* **tournaments**: 0/1 preferences (a unique equilibrium of odd support, Laffond, Laslier and Le
  Breton 1993);
* **0/½/1 games**: ties allowed, typically several equilibria;
* **named games**: the presets and the issue's rock/stone game.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from nlhf_core.equilibria import nash_equilibrium
from nlhf_core.games.presets import get_preset, preset_names

from .common import NASH_CERTIFICATE, nash_exploitability, random_preference

ROCK_STONE = [[0.5, 0.5, 0, 1], [0.5, 0.5, 1e-8, 1], [1, 0.99999999, 0.5, 0], [0, 0, 1, 0.5]]
DELTAS = (1e-12, 1e-10, 1e-8, 1e-6)


def _complete(upper: np.ndarray) -> np.ndarray:
    P = np.triu(upper, 1)
    P = P + np.tril(1.0 - P.T, -1)
    np.fill_diagonal(P, 0.5)
    return P


def clone_and_perturb(n: int, seed: int, delta: float) -> np.ndarray:
    """A random ``n``-response game plus ``n // 3 + 1`` copies, its upper triangle perturbed by ``delta``."""
    rng = np.random.default_rng(seed)
    base = random_preference(n, seed)
    idx = np.r_[np.arange(n), rng.integers(0, n, size=n // 3 + 1)]
    P = base[np.ix_(idx, idx)]
    P = _complete(np.clip(P + delta * rng.standard_normal(P.shape), 0.0, 1.0))
    perm = rng.permutation(len(idx))
    return P[np.ix_(perm, perm)]


def tournament(n: int, seed: int) -> np.ndarray:
    return _complete(np.random.default_rng(seed).integers(0, 2, size=(n, n)).astype(float))


def zero_half_one(n: int, seed: int) -> np.ndarray:
    return _complete(np.random.default_rng(seed).choice([0.0, 0.5, 1.0], size=(n, n)))


def games(quick: bool = False) -> dict[str, list[tuple[str, np.ndarray]]]:
    """The games of each class, with a short name each."""
    seeds = range(2) if quick else range(4)
    named = [(name, get_preset(name)) for name in preset_names()]
    named = [(name, g.matrix) for name, g in named if not g.has_contexts] + [("rock/stone", np.array(ROCK_STONE))]
    return {
        "random": [(f"n={n} seed {s}", random_preference(n, s)) for n in (10, 30, 100) for s in seeds],
        "clone-and-perturb": [
            (f"n={n}+{n // 3 + 1} δ={d:g} seed {s}", clone_and_perturb(n, s, d))
            for n in (6, 15, 40)
            for d in DELTAS
            for s in seeds[:2]
        ],
        "tournaments": [(f"n={n} seed {s}", tournament(n, s)) for n in (7, 15, 31, 63) for s in seeds],
        "0/½/1 games": [(f"n={n} seed {s}", zero_half_one(n, s)) for n in (6, 12, 24, 48) for s in seeds],
        "named games": named,
    }


def plain_highs(P: np.ndarray) -> np.ndarray:
    from .bench_exact import plain_lp  # the size sweep's HiGHS baseline, unchanged

    return plain_lp(P)


def measure(P: np.ndarray, repeats: int = 7) -> dict:
    """Median seconds of ours and of HiGHS on ``P`` (alternating), ours certified."""
    nash_equilibrium(P)  # warm caches (imports, LAPACK workspaces) for both alike
    plain_highs(P)
    ours, highs = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        result = nash_equilibrium(P)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        plain_highs(P)
        highs.append(time.perf_counter() - t)
    o, h = statistics.median(ours), statistics.median(highs)
    expl = nash_exploitability(P, result.policy)
    return {
        "ours_s": o,
        "highs_s": h,
        "ratio": o / h,
        "exploitability": expl,
        "certified": expl <= NASH_CERTIFICATE,
        "unique": bool(result.unique),
        "method": result.method,
    }


def run_classes(quick: bool = False) -> list[dict]:
    """One row per class: median and largest time ratio ours / HiGHS, and every game's entry."""
    rows = []
    for name, items in games(quick).items():
        entries = [{"game": label, "n": len(P), **measure(P, 3 if quick else 7)} for label, P in items]
        ratios = [e["ratio"] for e in entries]
        worst = max(entries, key=lambda e: e["ratio"])
        rows.append(
            {
                "class": name,
                "games": len(entries),
                "median_ratio": statistics.median(ratios),
                "max_ratio": max(ratios),
                "worst": f"{worst['game']} ({worst['ours_s'] * 1e3:.2f} ms vs {worst['highs_s'] * 1e3:.2f} ms)",
                "certified": all(e["certified"] for e in entries),
                "unique": sum(e["unique"] for e in entries),
                "entries": entries,
            }
        )
        print(f"exact classes: {name} median {rows[-1]['median_ratio']:.2f}× max {rows[-1]['max_ratio']:.2f}×")
    return rows


def targets(classes: list[dict]) -> list[dict]:
    """Issue 19's goal: never slower than 2× HiGHS on any of these games."""
    if not classes:
        return []
    worst = max(classes, key=lambda c: c["max_ratio"])
    return [
        {
            "target": "exact Nash: at most 2× the time of plain HiGHS on every game of every class",
            "measured": f"largest ratio {worst['max_ratio']:.2f}× ({worst['class']}: {worst['worst']})",
            "met": worst["max_ratio"] <= 2.0,
        },
        {
            "target": "exact Nash: every answer of every class certified (exploitability <= 1e-9)",
            "measured": ", ".join(f"{c['class']} {'yes' if c['certified'] else 'NO'}" for c in classes),
            "met": all(c["certified"] for c in classes),
        },
    ]


def render(classes: list[dict]) -> str:
    lines = [
        "Time of ours over the time of plain HiGHS (`scipy.optimize.linprog`), game by game (medians of "
        "alternating repeats in one process; below 1 means ours is faster). Every answer of ours is certified.",
        "",
        "| class | games | median ratio | largest ratio (game) | unique | certified |",
        "|---|---|---|---|---|---|",
    ]
    for c in classes:
        lines.append(
            f"| {c['class']} | {c['games']} | {c['median_ratio']:.2f}× | {c['max_ratio']:.2f}× ({c['worst']}) | "
            f"{c['unique']} of {c['games']} | {'yes' if c['certified'] else '**no**'} |"
        )
    return "\n".join(lines) + "\n"
