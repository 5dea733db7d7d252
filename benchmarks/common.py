"""Shared pieces of the peer benchmarks: games, certificates, time-limited and interleaved timing.

The certificates here are written independently of ``nlhf_core`` (a few lines of NumPy each)
so that a bug in the library cannot certify its own answers; ``tests/test_benchmarks.py``
checks them on tiny games.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import statistics
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np

NASH_CERTIFICATE = 1e-9  # the bar: every exact answer has exploitability <= 1e-9


def random_preference(n: int, seed: int) -> np.ndarray:
    """A random preference matrix: upper triangle uniform on [0, 1], ``P + P.T = 1``, diagonal 1/2.

    Equivalently ``P = 1/2 + A/2`` with ``A`` a random antisymmetric matrix with entries in [-1, 1].
    """
    rng = np.random.default_rng(seed)
    P = np.triu(rng.random((n, n)), 1)
    P = P + np.tril(1.0 - P.T, -1)
    np.fill_diagonal(P, 0.5)
    return P


def to_simplex(pi: Any) -> np.ndarray:
    """A peer's answer as a probability vector: floats, negatives clipped, renormalized."""
    x = np.clip(np.asarray(pi, dtype=float).ravel(), 0.0, None)
    total = x.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError("the answer is not a probability vector (it sums to zero or is not finite)")
    return x / total


def nash_exploitability(P: np.ndarray, pi: Any) -> float:
    """``max_y (P pi)(y) - 1/2`` after projecting ``pi`` to the simplex (0 iff ``pi`` is a Nash equilibrium)."""
    x = to_simplex(pi)
    return float(np.max(P @ x) - 0.5)


def regularized_gap(P: np.ndarray, pi: Any, tau: float, mu: np.ndarray | None = None) -> float:
    """The regularized duality gap ``2 [tau log sum mu exp(P pi / tau) + tau KL(pi || mu) - 1/2]`` (0 iff pi*_tau)."""
    x = to_simplex(pi)
    mu = np.full(len(x), 1.0 / len(x)) if mu is None else np.asarray(mu, dtype=float)
    z = (P @ x) / tau + np.log(mu)
    top = z.max()
    lse = top + np.log(np.exp(z - top).sum())
    pos = x > 0
    kl = float(np.sum(x[pos] * (np.log(x[pos]) - np.log(mu[pos]))))
    return float(2.0 * (tau * lse + tau * kl - 0.5))


def gambit_zero_sum_game(A: np.ndarray) -> Any:
    """The zero-sum game ``(A, -A)`` in pygambit, whichever constructor the installed version has.

    pygambit 16 builds strategic games with ``Game.from_arrays``; pygambit 17 moved it to
    ``StrategicGame.from_arrays`` and removed the old name.
    """
    import pygambit

    strategic = getattr(pygambit, "StrategicGame", None)
    build = getattr(strategic, "from_arrays", None) or pygambit.Game.from_arrays
    return build(A, -A)


def gambit_row_strategies(game: Any) -> list[Any]:
    """The first player's strategies (``game.get_strategies(player)`` in pygambit 17, ``player.strategies`` before)."""
    player = next(iter(game.players))
    if hasattr(game, "get_strategies"):
        return list(game.get_strategies(player))
    return list(player.strategies)


def max_difference(a: Any, b: Any) -> float:
    """Largest coordinate difference of two answers (both projected to the simplex)."""
    return float(np.max(np.abs(to_simplex(a) - to_simplex(b))))


def qre_fixed_point_residual(P: np.ndarray, pi: Any, lam: float) -> float:
    """Largest violation of the symmetric logit-QRE condition ``pi ∝ exp(lam (P pi))``."""
    x = to_simplex(pi)
    z = lam * (P @ x)
    target = np.exp(z - z.max())
    return float(np.max(np.abs(x - target / target.sum())))


@dataclass
class Outcome:
    """One timed call: ``status`` is ``ok``, ``gave up`` (hit its time limit) or ``failed``."""

    status: str
    seconds: float
    value: Any = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def timed(fn: Callable[..., Any], *args: Any) -> Outcome:
    """Run ``fn(*args)`` in this process; exceptions become a ``failed`` outcome."""
    start = time.perf_counter()
    try:
        value = fn(*args)
    except Exception as exc:  # a peer's failure is a result, not a crash of the benchmark
        return Outcome("failed", time.perf_counter() - start, error=_one_line(exc))
    return Outcome("ok", time.perf_counter() - start, value)


def _child(conn, fn, args) -> None:
    start = time.perf_counter()
    try:
        value = fn(*args)
        conn.send(("ok", time.perf_counter() - start, value, ""))
    except Exception as exc:
        conn.send(("failed", time.perf_counter() - start, None, _one_line(exc)))
    except BaseException:
        conn.send(("failed", time.perf_counter() - start, None, traceback.format_exc(limit=1)))
    conn.close()


def limited(fn: Callable[..., Any], args: Sequence[Any], limit_s: float) -> Outcome:
    """Run ``fn(*args)`` in a forked child that is killed after ``limit_s`` seconds.

    The child times the call itself (the fork is not counted) and sends the value back;
    a call still running at the limit is reported as ``gave up`` with ``seconds = limit_s``.
    """
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, tuple(args)), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(limit_s + 1.0):  # the child's own clock starts after the fork; allow for it
            status, seconds, value, error = parent.recv()
            if status == "ok" and seconds > limit_s:
                return Outcome("gave up", limit_s, error=f"finished in {seconds:.1f} s, past the limit")
            return Outcome(status, seconds, value, error)
        return Outcome("gave up", limit_s, error=f"no answer within {limit_s:g} s")
    except EOFError:
        return Outcome("failed", 0.0, error=f"the process died (exit code {proc.exitcode})")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        parent.close()


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


@dataclass
class Contender:
    """A named solver call for :func:`interleave`; ``limit_s`` runs it in a killable child."""

    name: str
    fn: Callable[..., Any]
    args: tuple = ()
    limit_s: float | None = None
    outcomes: list[Outcome] = field(default_factory=list)

    def call(self) -> Outcome:
        if self.limit_s is None:
            return timed(self.fn, *self.args)
        return limited(self.fn, self.args, self.limit_s)


def interleave(contenders: list[Contender], repeats: int, slow_s: float = 20.0) -> dict[str, dict]:
    """Time every contender ``repeats`` times, alternating them so machine load hits all alike.

    Round ``r`` runs the contenders in a rotated order. A contender that failed or gave up is
    not retried; one whose single run took more than ``slow_s`` runs once only. Returns, per
    name, the median seconds, the repeats, the status and the value of the last run.
    """
    for r in range(repeats):
        order = contenders[r % len(contenders) :] + contenders[: r % len(contenders)]
        for c in order:
            if c.outcomes and (not c.outcomes[-1].ok or c.outcomes[-1].seconds > slow_s):
                continue
            c.outcomes.append(c.call())
    summary = {}
    for c in contenders:
        good = [o for o in c.outcomes if o.ok]
        last = c.outcomes[-1]
        summary[c.name] = {
            "status": last.status,
            "seconds": statistics.median(o.seconds for o in good) if good else last.seconds,
            "runs": [round(o.seconds, 6) for o in c.outcomes],
            "value": last.value if last.ok else None,
            "error": last.error,
        }
    return summary


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (the machine is shared)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def versions(names: Sequence[str]) -> dict[str, str]:
    """Installed versions of ``names`` (``not installed`` where missing)."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine() -> dict[str, Any]:
    """A description of this machine for the results file."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as fh:
            mem = round(int(fh.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": mem,
        "python": platform.python_version(),
    }


def fmt_seconds(entry: dict) -> str:
    """A table cell for one :func:`interleave` entry."""
    if entry["status"] == "gave up":
        return f"gave up after {entry['seconds']:.0f} s"
    if entry["status"] != "ok":
        return "failed"
    s = entry["seconds"]
    return f"{s:.3g} s" if s >= 1e-3 else f"{s * 1e3:.2g} ms"


def ratio_text(slow: float | None, fast: float | None) -> str:
    if slow is None or fast is None or fast <= 0:
        return "—"
    r = slow / fast
    return f"{r:.0f}×" if r >= 10 else f"{r:.1f}×"
