"""Exact Nash of random preference games: ours against Nashpy, OpenSpiel, pygambit and plain HiGHS.

One section of ``python -m benchmarks.run`` (``make bench``). For each size n one random
preference game (seed = n) is solved by every contender on the same matrix. Zero-sum peers get
the payoff ``A = P - 1/2`` (row player) and ``-A`` (column player); ``P`` itself is the same
game shifted by a constant. Every answer, ours and the peers', is certified the same way — its
exploitability ``max_y (P pi)(y) - 1/2`` — and compared with ours coordinate by coordinate
(random games have a unique equilibrium, so all correct answers coincide).

Peers run in a forked child with a time limit (reported as "gave up after X s"); a peer that
gave up at one size, or whose time at the previous size scaled by ``(n / n_prev)^3`` would pass
twice the limit, is not run at larger sizes ("not run"). Ours runs in this process.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import linprog

from nlhf_core.equilibria import nash_equilibrium

from . import exact_classes
from .common import (
    NASH_CERTIFICATE,
    Contender,
    fmt_seconds,
    gambit_row_strategies,
    gambit_zero_sum_game,
    interleave,
    load_average,
    max_difference,
    nash_exploitability,
    random_preference,
    ratio_text,
)

TITLE = "Exact Nash equilibrium"
SIZES = (10, 30, 100, 300, 1000, 2000)
QUICK_SIZES = (10, 30, 100)
LIMITS = {10: 30.0, 30: 30.0, 100: 30.0, 300: 60.0, 1000: 90.0, 2000: 90.0}
#: Peers whose running time is exponential in n in the worst case; never run above this size.
EXPONENTIAL_MAX_N = {"Nashpy vertex_enumeration": 10, "Nashpy lemke_howson": 300, "pygambit lcp_solve": 300}
PACKAGES = ("numpy", "scipy", "nashpy", "open-spiel", "cvxpy", "ecos", "pygambit")


# ---------------------------------------------------------------- contenders (module level: picklable)
def ours(P: np.ndarray) -> np.ndarray:
    return nash_equilibrium(P).policy


def plain_lp(P: np.ndarray, method: str = "highs") -> np.ndarray:
    """``max v s.t. P^T pi >= v, sum pi = 1, pi >= 0`` with ``scipy.optimize.linprog``."""
    n = len(P)
    res = linprog(
        np.r_[np.zeros(n), -1.0],
        A_ub=np.hstack([-P.T, np.ones((n, 1))]),
        b_ub=np.zeros(n),
        A_eq=np.r_[np.ones(n), 0.0][None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * n + [(None, None)],
        method=method,
    )
    if res.status != 0:
        raise RuntimeError(f"linprog status {res.status}: {res.message}")
    return res.x[:n]


def plain_lp_ipm(P: np.ndarray) -> np.ndarray:
    return plain_lp(P, "highs-ipm")


def nashpy_linear_program(P: np.ndarray) -> np.ndarray:
    from nashpy.linalg.minimax import linear_program

    return linear_program(row_player_payoff_matrix=P - 0.5)


def nashpy_vertex_enumeration(P: np.ndarray) -> np.ndarray:
    import nashpy

    row, _ = next(iter(nashpy.Game(P - 0.5, 0.5 - P).vertex_enumeration()))
    return row


def nashpy_lemke_howson(P: np.ndarray) -> np.ndarray:
    import nashpy

    row, _ = nashpy.Game(P - 0.5, 0.5 - P).lemke_howson(initial_dropped_label=0)
    return row


def openspiel_lp(P: np.ndarray) -> np.ndarray:
    import pyspiel
    from open_spiel.python.algorithms import lp_solver

    A = P - 0.5
    game = pyspiel.create_matrix_game(A.tolist(), (-A).tolist())
    return np.asarray(lp_solver.solve_zero_sum_matrix_game(game)[0], dtype=float)


def _gambit_game(P: np.ndarray):
    return gambit_zero_sum_game(P - 0.5)


def _gambit_row(game, result) -> np.ndarray:
    if not result.equilibria:
        raise RuntimeError("no equilibrium returned")
    profile = result.equilibria[0]
    return np.array([float(profile[s]) for s in gambit_row_strategies(game)])


def gambit_lp(P: np.ndarray) -> np.ndarray:
    import pygambit

    game = _gambit_game(P)
    return _gambit_row(game, pygambit.nash.lp_solve(game, rational=False))


def gambit_lcp(P: np.ndarray) -> np.ndarray:
    import pygambit

    game = _gambit_game(P)
    return _gambit_row(game, pygambit.nash.lcp_solve(game, rational=False, stop_after=1))


PEERS = (
    ("scipy linprog (HiGHS)", plain_lp, "scipy"),
    ("scipy linprog (HiGHS IPM)", plain_lp_ipm, "scipy"),
    ("Nashpy linear_program", nashpy_linear_program, "nashpy"),
    ("Nashpy lemke_howson", nashpy_lemke_howson, "nashpy"),
    ("Nashpy vertex_enumeration", nashpy_vertex_enumeration, "nashpy"),
    ("OpenSpiel lp_solver (cvxpy)", openspiel_lp, "open_spiel"),
    ("pygambit lp_solve", gambit_lp, "pygambit"),
    ("pygambit lcp_solve", gambit_lcp, "pygambit"),
)


def _available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def check(P: np.ndarray, reference: np.ndarray, entry: dict) -> None:
    """Certify one answer in place: exploitability and distance to ours."""
    if entry["status"] != "ok":
        entry["exploitability"] = entry["difference_to_ours"] = None
        entry["certified"] = False
        return
    try:
        entry["exploitability"] = nash_exploitability(P, entry["value"])
        entry["difference_to_ours"] = max_difference(entry["value"], reference)
    except ValueError as exc:
        entry.update(status="failed", error=str(exc), exploitability=None, difference_to_ours=None)
    entry["certified"] = entry.get("exploitability") is not None and entry["exploitability"] <= NASH_CERTIFICATE


def warm_up() -> dict[str, str]:
    """Import every installed peer and call it once on a 4 × 4 game in this process.

    Forked children then start with the imports and lazy initializations done, so no
    contender's time includes its import. Returns the peers that failed the warm-up.
    """
    P = random_preference(4, seed=4)
    failed = {}
    for name, fn, module in PEERS:
        if _available(module):
            try:
                fn(P)
            except Exception as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"[:200]
    ours(P)
    return failed


def run(quick: bool = False) -> dict:
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # Nashpy's tableau divides by zero, loudly
    warm_up()
    sizes = QUICK_SIZES if quick else SIZES
    rows, history = [], {}
    for n in sizes:
        P = random_preference(n, seed=n)
        limit = LIMITS.get(n, 90.0)
        contenders = [Contender("ours", ours, (P,))]
        skipped = {}
        for name, fn, module in PEERS:
            if not _available(module):
                skipped[name] = "not installed"
                continue
            if n > EXPONENTIAL_MAX_N.get(name, 10**9):
                skipped[name] = f"not run above n = {EXPONENTIAL_MAX_N[name]} (exponential worst case)"
                continue
            prev = history.get(name)
            if prev is not None and prev["status"] != "ok":
                skipped[name] = f"not run: {prev['status']} at n = {prev['n']}"
                continue
            if prev is not None and prev["seconds"] * (n / prev["n"]) ** 3 > 2 * limit:
                skipped[name] = (
                    f"not run: {prev['seconds']:.1f} s at n = {prev['n']} × (n / {prev['n']})³ "
                    f"is past 2 × the {limit:.0f} s limit"
                )
                continue
            contenders.append(Contender(name, fn, (P,), limit_s=limit))
        load_before = load_average()
        repeats = 5 if n <= 300 else 3
        results = interleave(contenders, repeats=repeats, slow_s=10.0)
        reference = results["ours"]["value"]
        for name, entry in results.items():
            check(P, reference, entry)
            entry.pop("value")
            history[name] = {"n": n, "status": entry["status"], "seconds": entry["seconds"]}
        for name, why in skipped.items():
            results[name] = {"status": "not run", "seconds": None, "runs": [], "error": why, "certified": False}
        rows.append({"n": n, "limit_s": limit, "load_average": [load_before, load_average()], "results": results})
        print(
            f"exact n={n}: "
            + ", ".join(f"{k} {fmt_seconds(v) if v['seconds'] else v['status']}" for k, v in results.items()),
            flush=True,
        )
    classes = exact_classes.run_classes(quick)
    return {"rows": rows, "classes": classes, "targets": targets(rows, classes)}


def targets(rows: list[dict], classes: list[dict] | None = None) -> list[dict]:
    """At n = 1000: >= 10× the plain HiGHS LP, faster than every finisher, all certified; per class
    (issue 19): never more than 2× HiGHS's time, every answer certified."""
    out = exact_classes.targets(classes or [])
    row = next((r for r in rows if r["n"] == 1000), None)
    if row is None:
        return out
    res = row["results"]
    ours_s = res["ours"]["seconds"]
    highs = res.get("scipy linprog (HiGHS)", {})
    finishers = {k: v["seconds"] for k, v in res.items() if k != "ours" and v["status"] == "ok"}
    fastest_peer = min(finishers.items(), key=lambda kv: kv[1]) if finishers else None
    all_certified = all(v.get("certified") for v in res.values() if v["status"] == "ok")
    speedup = highs["seconds"] / ours_s if highs.get("status") in ("ok", "gave up") else None
    if speedup is None:
        measured = "—"
    elif highs["status"] == "gave up":
        measured = f"> {speedup:.0f}× (ours {ours_s:.2f} s; HiGHS gave up after {highs['seconds']:.0f} s)"
    else:
        measured = f"{speedup:.1f}× ({ours_s:.2f} s vs {highs['seconds']:.1f} s)"
    return [
        {
            "target": "exact Nash, n = 1000: >= 10× faster than the plain HiGHS LP",
            "measured": measured,
            "met": speedup is not None and speedup >= 10,
        },
        {
            "target": "exact Nash, n = 1000: faster than every peer that finishes",
            "measured": "no peer finished"
            if fastest_peer is None
            else f"fastest peer {fastest_peer[0]}: {fastest_peer[1]:.2f} s = {fastest_peer[1] / ours_s:.1f}× ours",
            "met": fastest_peer is None or fastest_peer[1] > ours_s,
        },
        {
            "target": "exact Nash, n = 1000: every answer certified (exploitability <= 1e-9)",
            "measured": ", ".join(f"{k} {v['exploitability']:.1e}" for k, v in res.items() if v["status"] == "ok"),
            "met": all_certified,
        },
        *out,
    ]


def render(result: dict) -> str:
    rows = result["rows"]
    names = list(dict.fromkeys(k for r in rows for k in r["results"]))
    lines = [
        "Seconds per solve (median of interleaved repeats; peers in a forked child with the row's time limit). "
        "Below each time: the answer's exploitability and its largest coordinate difference to ours.",
        "",
        "| n | load (1 min) | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for r in rows:
        cells = []
        ours_s = r["results"]["ours"]["seconds"]
        for name in names:
            e = r["results"].get(name)
            if e is None or e["status"] == "not run":
                cells.append("not run")
                continue
            if e["status"] != "ok":
                cells.append(fmt_seconds(e) if e["status"] == "gave up" else f"failed: {e['error'][:60]}")
                continue
            speed = "" if name == "ours" else f" ({ratio_text(e['seconds'], ours_s)} ours)"
            diff = "" if name == "ours" else f", Δ {e['difference_to_ours']:.0e}"
            mark = "" if e["certified"] else " ✗"
            cells.append(f"{fmt_seconds(e)}{speed}<br>expl. {e['exploitability']:.0e}{diff}{mark}")
        load = r["load_average"][0][0] if r["load_average"][0] else "?"
        lines.append(f"| {r['n']} | {load} | " + " | ".join(cells) + " |")
    notes = sorted({(name, e["error"]) for r in rows for name, e in r["results"].items() if e["status"] == "not run"})
    lines += ["", "✗ = not certified (exploitability above 1e-9). Not run / gave up / failed:", ""]
    seen = set()
    for name, why in notes:
        if (name, why.split(" at n")[0]) in seen:
            continue
        seen.add((name, why.split(" at n")[0]))
        lines.append(f"- {name}: {why}")
    for r in rows:
        for name, e in r["results"].items():
            if e["status"] in ("gave up", "failed"):
                lines.append(f"- {name} at n = {r['n']}: {e['status']} ({e['error']})")
    if result.get("classes"):
        lines += ["", "**By game class, against HiGHS.** " + exact_classes.render(result["classes"])]
    return "\n".join(lines) + "\n"
