"""Work estimates for the app's requests, checked before running: no page computes for minutes.

Every heavy request of the explorer (a solver run, a race, a sweep, the feedback lab, the parametric
overlay, the NLHF-vs-RLHF comparison) is counted in elementary operations *before* it runs, each kind
of operation priced by a constant measured on this project's 2-core machine, and refused with one
sentence when the total exceeds :data:`BUDGET_SECONDS` — so a page answers within a few seconds, and
work abandoned by a closed tab ends within that time too.

Operations counted (``n`` responses, ``C`` contexts, see DESIGN.md for a *preference query*):

* a solver run: ``iterations`` iteration dispatches; ``iterations × q`` preference queries (``q`` per
  iteration), each ``C n²`` matrix cells exact, or for ``m`` sampled comparisons per response a fixed
  draw set-up plus ``C n²`` binomial cells costing ``1 + log10 m`` units each (the draws are
  multinomial counts, then binomial wins per pair, so the cost grows with ``log m``, not ``m``); the
  metrics of each recorded iterate (``C n²`` cells each); the exact target (one equilibrium solve);
* an equilibrium-class solve (exact Nash, regularized Nash, Bradley–Terry fit): ``C n³`` plus a fixed
  set-up;
* the parametric (policy-gradient) overlay: ``steps`` torch steps, ``steps × batch × n`` sample-response
  terms, its recorded metrics and its set-up (two Bradley–Terry fits and both equilibria);
* a sweep: per iteration one dispatch plus ``S C (n² + 20 n)`` cells for ``S`` settings, and one
  regularized Nash per distinct τ;
* the feedback lab: simulated comparisons, the fits of every pipeline (one per dataset size and seed),
  the adaptive rounds and the online Nash-MD run.

The constants are CPU time of one core with one BLAS thread (``scripts/measure_budget.py`` re-measures
them; the tests check that an accepted request runs within its budget). Measured 2026-12-01 while other
jobs shared the machine (load average 7–14 on 2 cores: wall time was 3–4× the CPU time then).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from nlhf_core.errors import BudgetError

#: CPU seconds (one core) a page's request may take.
BUDGET_SECONDS = 6.0

# ---- measured costs, in nanoseconds of one core (scripts/measure_budget.py) ----
#: One solver iteration's NumPy dispatch (16–49 µs measured over the eleven solvers at n = 3).
ITERATION_NS = 50_000.0
#: One matrix cell of an exact query ``P π`` (0.36–0.8 ns at n = 300…2000).
EXACT_CELL_NS = 0.8
#: Metrics of one recorded step (last and average iterate), per matrix cell (5.8–6.6 ns at n = 300…2000).
RECORD_CELL_NS = 7.0
#: Fixed set-up of one sampled query (multinomial and binomial draws; ~150 µs at n = 3).
SAMPLED_QUERY_NS = 150_000.0
#: One matrix cell of a sampled query, per unit of ``1 + log10 m`` (70 ns at m = 1, 260 ns at m = 1000).
SAMPLED_CELL_NS = 70.0
#: ``n³`` coefficient per context of an exact Nash (0.54 ns at n = 1000, 0.75 at 600).
NASH_CUBIC_NS = 0.7
#: ``n³`` coefficient per context of a regularized Nash (0.14 ns at n = 1000, 0.16 at 600).
REGULARIZED_CUBIC_NS = 0.25
#: ``n³`` coefficient per context of a Bradley–Terry fit (1.36–1.40 ns at n = 600…1000).
BRADLEY_TERRY_CUBIC_NS = 1.5
#: Fixed set-up of one equilibrium-class solve (~8–12 ms at small n).
SOLVE_NS = 10e6
#: One policy-gradient step's torch dispatch (1.2–2.4 ms at n ≤ 12).
PG_STEP_NS = 2.5e6
#: One sampled (response, alternative) term of a policy-gradient step, per response (~33 ns).
PG_SAMPLE_NS = 35.0
#: Metrics of one recorded policy-gradient iterate, per matrix cell (~42 ns at n = 300).
PG_RECORD_CELL_NS = 45.0
#: One simulated annotator comparison (119–309 ns).
COMPARISON_NS = 400.0
#: One sweep iteration's dispatch, and its per-(setting, context, response) vector work.
SWEEP_ITERATION_NS = 130_000.0
SWEEP_VECTOR_NS = 20.0

#: The app records a run every ``iterations // FRAMES`` iterations (``app/state.py``).
FRAMES = 120
#: Adaptive sampling draws its data in this many rounds, each refitting the preference model.
ADAPTIVE_ROUNDS = 5


class GameSize(Protocol):
    """What an estimate needs of a game: its number of responses and of contexts."""

    @property
    def n(self) -> int: ...

    @property
    def num_contexts(self) -> int: ...


@dataclass(frozen=True)
class WorkEstimate:
    """Estimated CPU seconds of one request, what it is, and what to lower if it is too much."""

    request: str
    seconds: float
    lower: str

    def __add__(self, other: WorkEstimate) -> WorkEstimate:
        """Two parts of one page's request; the larger part names what to lower."""
        big = self if self.seconds >= other.seconds else other
        return WorkEstimate(self.request, self.seconds + other.seconds, big.lower)

    def named(self, request: str) -> WorkEstimate:
        """The same work under the name the user knows it by."""
        return WorkEstimate(request, self.seconds, self.lower)


def _records(iterations: int) -> int:
    """Recorded steps of an app run: every ``iterations // FRAMES``, the start and the end (121 to 241)."""
    every = max(1, int(iterations) // FRAMES)
    return int(iterations) // every + 1 + (1 if int(iterations) % every else 0)


def _ns(value: float) -> float:
    return value * 1e-9


# ---------------------------------------------------------------------- building blocks
def equilibria_work(game: GameSize, *, nash: int = 0, regularized: int = 0, bradley_terry: int = 0) -> WorkEstimate:
    """Exact Nash, regularized Nash and Bradley–Terry solves: each a fixed set-up plus ``C n³`` terms.

    Args:
        game: the game (its size).
        nash, regularized, bradley_terry: how many solves of each kind.

    Returns:
        The estimate.
    """
    cubic = game.num_contexts * float(game.n) ** 3
    ns = (nash + regularized + bradley_terry) * SOLVE_NS + cubic * (
        nash * NASH_CUBIC_NS + regularized * REGULARIZED_CUBIC_NS + bradley_terry * BRADLEY_TERRY_CUBIC_NS
    )
    return WorkEstimate("the exact equilibria", _ns(ns), "use a game with fewer responses")


def query_ns(game: GameSize, samples: int | None) -> float:
    """Nanoseconds of one preference query: ``C n²`` cells, exact or from ``samples`` comparisons each."""
    cells = game.num_contexts * float(game.n) ** 2
    if samples is None:
        return cells * EXACT_CELL_NS
    return SAMPLED_QUERY_NS + cells * SAMPLED_CELL_NS * (1.0 + math.log10(max(1, samples)))


def solver_run_work(
    game: GameSize, *, iterations: int, queries_per_iteration: int = 1, samples: int | None = None
) -> WorkEstimate:
    """One tabular solver run as the app makes it (its metrics recorded ~120 times, its target solved).

    Args:
        game: the game.
        iterations: solver iterations.
        queries_per_iteration: preference queries per iteration (2 for extragradient solvers).
        samples: sampled comparisons per response and query, or None for exact queries.

    Returns:
        The estimate, with a request name that gives the run's size.
    """
    ns = iterations * (ITERATION_NS + queries_per_iteration * query_ns(game, samples))
    ns += _records(iterations) * game.num_contexts * float(game.n) ** 2 * RECORD_CELL_NS
    feedback = "exact preferences" if samples is None else f"{samples:,} sampled comparisons per response"
    request = f"this solver run ({iterations:,} iterations, {feedback}, {game.n:,} responses)"
    lower = "lower the iterations" + (" or the sampled comparisons" if samples else "") + ", or use a smaller game"
    return WorkEstimate(request, _ns(ns), lower) + equilibria_work(game, regularized=1).named(request)


def policy_gradient_work(game: GameSize, *, steps: int, batch_size: int) -> WorkEstimate:
    """The parametric overlay: torch steps, sampled terms, recorded metrics, and its set-up solves."""
    ns = steps * (PG_STEP_NS + batch_size * game.num_contexts * game.n * PG_SAMPLE_NS)
    ns += _records(steps) * game.num_contexts * float(game.n) ** 2 * PG_RECORD_CELL_NS
    setup = equilibria_work(game, nash=1, regularized=1, bradley_terry=2)
    request = f"the parametric run ({steps:,} steps of {batch_size:,} comparisons)"
    return WorkEstimate(request, _ns(ns) + setup.seconds, "lower the parametric run's gradient steps or batch")


# ---------------------------------------------------------------------- one estimate per page
def playground_work(
    game: GameSize,
    *,
    iterations: int,
    queries_per_iteration: int = 1,
    samples: int | None = None,
    overlay: tuple[int, int] | None = None,
) -> WorkEstimate:
    """The Playground: the solver run, the exact Nash, π*_τ and the RLHF fit, and the optional overlay.

    Args:
        game: the game.
        iterations, queries_per_iteration, samples: the solver run (see :func:`solver_run_work`).
        overlay: ``(steps, batch_size)`` of the parametric overlay, or None when it is off.

    Returns:
        The estimate of the whole page.
    """
    work = solver_run_work(game, iterations=iterations, queries_per_iteration=queries_per_iteration, samples=samples)
    work = work + equilibria_work(game, nash=1, regularized=1, bradley_terry=1)
    request = "The Playground's " + work.request.removeprefix("this ")
    if overlay is not None:
        steps, batch = overlay
        work = work + policy_gradient_work(game, steps=steps, batch_size=batch)
        request += f" with its parametric run ({steps:,} steps of {batch:,} comparisons)"
    return work.named(request)


def race_work(game: GameSize, *, budget_queries: int, queries_per_iteration: Sequence[int]) -> WorkEstimate:
    """The solver race: every racer runs ``budget_queries // q`` iterations, exact, with its target."""
    work = WorkEstimate("", 0.0, "")
    for q in queries_per_iteration:
        work = work + solver_run_work(game, iterations=max(1, budget_queries // q), queries_per_iteration=q)
    request = f"This race ({len(queries_per_iteration)} solvers × {budget_queries:,} queries, {game.n:,} responses)"
    return WorkEstimate(request, work.seconds, "race fewer solvers, lower the budget of queries, or use a smaller game")


def sweep_work(
    game: GameSize, *, settings: int, iterations: int, taus: int, queries_per_iteration: int = 1
) -> WorkEstimate:
    """A batched sweep of ``settings`` (η, τ) cells, with one regularized Nash per distinct τ."""
    C, n = game.num_contexts, float(game.n)
    per_setting = queries_per_iteration * n * n * EXACT_CELL_NS + n * SWEEP_VECTOR_NS
    ns = iterations * queries_per_iteration * SWEEP_ITERATION_NS + iterations * settings * C * per_setting
    ns += settings * C * n * n * RECORD_CELL_NS
    work = WorkEstimate("", _ns(ns), "") + equilibria_work(game, regularized=max(1, taus))
    request = f"This sweep ({settings} settings × {iterations:,} iterations, {game.n:,} responses)"
    return WorkEstimate(request, work.seconds, "lower the iterations, or use a smaller game")


def pipeline_work(game: GameSize, comparisons: int, *, adaptive: bool) -> WorkEstimate:
    """One dataset → models → policies pipeline of the feedback lab (two model fits, π*_τ, adaptive rounds)."""
    rounds = ADAPTIVE_ROUNDS if adaptive else 0
    simulate = _ns(comparisons * COMPARISON_NS + (1 + rounds) * game.num_contexts * float(game.n) ** 2)
    return WorkEstimate("", simulate, "") + equilibria_work(game, regularized=1 + rounds, bradley_terry=1)


def feedback_lab_work(
    game: GameSize,
    *,
    size: int,
    adaptive: bool,
    curve_sizes: Sequence[int],
    seeds: int,
    online_iterations: int,
    online_batch: int,
) -> WorkEstimate:
    """The feedback lab: one pipeline of ``size`` comparisons (and a second reward fit), the curves over
    sizes × seeds, the sampling effect (two fits, π*_τ and the Nash) and the online Nash-MD run."""
    work = pipeline_work(game, size, adaptive=adaptive) + equilibria_work(game, bradley_terry=1)
    for curve_size in curve_sizes:
        for _ in range(seeds):
            work = work + pipeline_work(game, curve_size, adaptive=adaptive)
    work = work + equilibria_work(game, nash=1, regularized=1, bradley_terry=2)
    online = online_iterations * (
        online_batch * game.num_contexts * COMPARISON_NS + 2 * ITERATION_NS + game.num_contexts * game.n**2
    )
    work = work + WorkEstimate("", _ns(online), "") + equilibria_work(game, regularized=1)
    request = f"The feedback lab ({size:,} comparisons, {len(curve_sizes)} sizes × {seeds} seeds, {game.n:,} responses)"
    lower = "lower the comparisons" + (" or use uniform pairs" if adaptive else "") + ", or use a smaller game"
    return WorkEstimate(request, work.seconds, lower)


def comparison_work(game: GameSize) -> WorkEstimate:
    """NLHF vs RLHF: the exact Nash, π*_τ, the Bradley–Terry fit, IPO and the head-to-head table."""
    work = equilibria_work(game, nash=1, regularized=1, bradley_terry=1)
    return work.named(f"The comparison of NLHF and RLHF on {game.n:,} responses")


# ---------------------------------------------------------------------- the check
def describe_seconds(seconds: float) -> str:
    """``"3 s"``, ``"4 minutes"``, ``"2.5 hours"``, ``"3 days"``: a duration as a person reads it."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.2g} hours"
    return f"{seconds / 86400:.2g} days"


def check_budget(work: WorkEstimate, limit: float = BUDGET_SECONDS) -> WorkEstimate:
    """Refuse ``work`` when its estimate exceeds ``limit`` seconds of computing.

    Args:
        work: the request's estimate.
        limit: seconds a request may take (default :data:`BUDGET_SECONDS`).

    Returns:
        ``work``, when it fits.

    Raises:
        BudgetError: one sentence naming the request, its estimated time and what to lower.
    """
    if work.seconds <= limit:
        return work
    request = work.request[:1].upper() + work.request[1:]
    raise BudgetError(
        f"{request} would take about {describe_seconds(work.seconds)} of computing, more than the "
        f"{describe_seconds(limit)} one request may use on this server; {work.lower}."
    )
