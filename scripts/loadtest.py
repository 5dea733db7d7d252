"""Classroom load test: N concurrent sessions against one `streamlit run` on this machine.

Each session opens the Playground, edits the preference matrix several times with a think time
between edits, and switches the solver once. ``--browsers K`` of them are real headless Chromium
sessions (separate Playwright contexts, as separate students would be), measuring what a student
sees: time from an edit to the updated chart (the Nash marker moves). The others speak Streamlit's
websocket protocol (``tests/protocol_client.py``): they make the server do exactly the work a browser
asks of it — the script runs, deltas, websocket — without running a browser's renderer on the
server's cores, which in a classroom run on the students' laptops. For every protocol edit the
chart the server sent is checked: its Nash marker must be the exact Nash of that session's edited
game (a session never gets another's answer). Measured: edit → updated chart (browsers) and
edit → script finished (protocol sessions), first chart, solver switch, server memory (RSS, sampled
every 0.5 s) and CPU, and errors (exceptions shown, wrong charts, timeouts). Loopback only; bounded.

    make loadtest                              # 30 sessions, 4 of them real browsers
    python scripts/loadtest.py --browsers 30   # every session a browser (renderers share the 2 cores)
    python scripts/loadtest.py --sessions 10 --edits 3
    make loadtest ARGS="--adversarial 5"       # 5 of the sessions send the heaviest requests and abandon them

Adversarial mode (``--adversarial A``): A of the sessions are hostile protocol clients that, until the
others finish, open the heaviest requests the work budget accepts (the Playground's sampled run, an
all-solver race, a 5000-iteration sweep, the feedback lab's largest adaptive run), each with fresh
settings so no cache answers it, and close the tab about ``--abandon`` seconds later. The report's
figures for the other sessions are then what a class sees while that goes on.

Writes test-artifacts/loadtest.json and prints a summary; exits 1 unless there were no errors and
both p95s are under the target (2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlhf_core.algorithms import get_algorithm, list_algorithms  # noqa: E402
from nlhf_core.equilibria import nash_equilibrium  # noqa: E402
from nlhf_core.games.game import PreferenceGame  # noqa: E402
from nlhf_core.games.presets import get_preset, preset_names  # noqa: E402
from tests.browser_helpers import (  # noqa: E402
    APP,
    ARTIFACTS,
    CELL_EDITOR,
    CHROMIUM_ARGS,
    CONNECTED,
    DATA_EDITOR,
    EXCEPTION,
    IDLE,
    OPTION,
    PLOTLY,
    SELECTBOX,
    cell_route,
    require_browser,
    streamlit_process,
)
from tests.protocol_client import ProtocolSession  # noqa: E402

TARGET_P95_S = 2.0

NASH_JS = (
    "() => { const gd = document.querySelectorAll('.js-plotly-plot')[0];"
    " const t = gd && gd.data && gd.data.find(d => d.name === 'Nash');"
    " return t ? JSON.stringify([t.a[0], t.b[0], t.c[0]]) : null; }"
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/PID/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children threads (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def open_editor(page, row: int, col: int, current: float, tries: int = 3):
    """Open the matrix editor's cell (row, col), checking by its value that the keyboard got there."""
    grid = page.locator(DATA_EDITOR).first
    for attempt in range(tries):
        x, y, keys = cell_route(await grid.bounding_box(), row, col)
        await page.mouse.click(x, y)
        for key in keys:
            await page.keyboard.press(key)
        editor = page.locator(CELL_EDITOR).first
        await editor.wait_for(timeout=10_000)
        if abs(float(await editor.input_value()) - current) < 1e-9:
            return editor
        await page.keyboard.press("Escape")
        await asyncio.sleep(0.3 * (attempt + 1))
    raise LookupError(f"the keyboard did not reach cell ({row}, {col}) in {tries} tries")


async def edit_cell(page, row: int, col: int, value: float, current: float, expected, timeout: float) -> float:
    """Type ``value`` into the matrix editor; seconds until the Nash marker shows ``expected``."""
    editor = await open_editor(page, row, col, current)
    start = time.perf_counter()
    await editor.fill(f"{value:g}")
    await page.keyboard.press("Enter")
    target = json.dumps([float(x) for x in expected])
    await page.wait_for_function(
        f"() => {{ const m = ({NASH_JS})(), e = {target};"
        " return m !== null && JSON.parse(m).every((x, i) => Math.abs(x - e[i]) < 1e-6); }",
        timeout=timeout,
    )
    return time.perf_counter() - start


async def student(k: int, browser, url: str, args, out: dict) -> None:
    rng = random.Random(k)
    await asyncio.sleep(k * args.ramp / max(1, args.sessions))  # a class joins over a few seconds
    ctx = await browser.new_context(viewport={"width": 1300, "height": 1600})
    page = await ctx.new_page()
    try:
        start = time.perf_counter()
        await page.goto(url, timeout=args.timeout * 1000)
        await page.wait_for_selector(PLOTLY, timeout=args.timeout * 1000)
        await page.wait_for_selector(f"{APP}{IDLE}", timeout=args.timeout * 1000)
        out["first_chart"].append(time.perf_counter() - start)
        game = get_preset(preset_names()[0])
        matrix = game.matrix.copy()
        for e in range(args.edits):
            await asyncio.sleep(rng.uniform(args.think / 2, args.think * 1.5))
            col, value = 1 + e % 2, round(rng.uniform(0.05, 0.95), 3)
            current = float(matrix[0, col])
            matrix[0, col], matrix[col, 0] = value, 1 - value
            expected = nash_equilibrium(PreferenceGame.from_matrix(matrix, game.labels)).policy
            try:
                out["edit_to_chart"].append(
                    await edit_cell(page, 0, col, value, current, expected, args.timeout * 1000)
                )
            except Exception as err:  # a timeout is an error of the run, not of the script
                out["errors"].append(f"session {k} edit {e}: {type(err).__name__}: {str(err).splitlines()[0][:120]}")
            await page.wait_for_selector(CONNECTED, timeout=180_000)
        await asyncio.sleep(rng.uniform(args.think / 2, args.think * 1.5))
        t = time.perf_counter()
        await page.locator(SELECTBOX).filter(has_text="Algorithm").click()
        await page.locator(OPTION).filter(has_text="nash-mp").first.click()
        await page.wait_for_function(
            "() => window.location.search.includes('alg=nash-mp')", timeout=args.timeout * 1000
        )
        await page.wait_for_selector(f"{APP}{IDLE}", timeout=180_000)
        out["solver_switch"].append(time.perf_counter() - t)
        exceptions = await page.locator(EXCEPTION).count()
        if exceptions:
            out["errors"].append(f"session {k}: {exceptions} exception(s) shown")
    except Exception as err:
        out["errors"].append(f"session {k}: {type(err).__name__}: {str(err).splitlines()[0][:120]}")
    finally:
        await ctx.close()


async def protocol_student(k: int, url: str, args, out: dict) -> None:
    """A student whose browser runs elsewhere: the same actions over the websocket, each answer checked."""
    rng = random.Random(k)
    game = get_preset(preset_names()[0])
    matrix = game.matrix.copy()
    await asyncio.sleep(k * args.ramp / max(1, args.sessions))
    try:
        async with ProtocolSession(url, timeout=args.timeout) as session:
            run = await session.open()
            out["server_first_run"].append(run.seconds)
            for e in range(args.edits):
                await asyncio.sleep(rng.uniform(args.think / 2, args.think * 1.5))
                col = 1 + e % 2
                value = round(rng.uniform(0.05, 0.95), 3)
                try:
                    run = await session.edit_cell(run, 0, game.labels[col], value)
                except (TimeoutError, LookupError) as err:
                    out["errors"].append(f"protocol session {k} edit {e}: {err}")
                    continue
                out["server_edit"].append(run.seconds)
                matrix[0, col], matrix[col, 0] = value, 1 - value
                expected = nash_equilibrium(PreferenceGame.from_matrix(matrix, game.labels)).policy
                shown = run.nash_marker()
                if run.exceptions() or max(abs(a - b) for a, b in zip(shown, expected, strict=True)) > 1e-6:
                    out["errors"].append(f"protocol session {k} edit {e}: chart {shown} is not this game's Nash")
                else:
                    out["charts_checked"] += 1
            await asyncio.sleep(rng.uniform(args.think / 2, args.think * 1.5))
            run = await session.choose(run, "alg", "nash-mp")
            out["server_switch"].append(run.seconds)
            if run.exceptions() or not run.has_text(get_algorithm("nash-mp").title):
                out["errors"].append(f"protocol session {k}: the solver switch did not take")
    except Exception as err:
        out["errors"].append(f"protocol session {k}: {type(err).__name__}: {str(err).splitlines()[0][:120]}")


ALL_SOLVERS = [spec.name for spec in list_algorithms()]
#: The heaviest requests the work budget accepts on each page, as URL parameters ({k} varies the settings).
HEAVY_REQUESTS = [
    ("", "preset=random-preferences&iters=20000&samples=1000&seed={k}"),
    (
        "race",
        "preset=random-preferences&race_budget=5000&race_tau={tau}&" + "&".join(f"racers={a}" for a in ALL_SOLVERS),
    ),
    ("sweeps", "preset=random-preferences&sw_iters=5000&sw_alg={alg}&sw_metric=exploitability"),
    ("feedback", "preset=random-preferences&fb_n=30000&fb_sampling=adaptive&fb_batch=512&fb_seed={k}"),
]
TAUS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]
SWEEP_SOLVERS = ["nash-md", "nash-ema", "omd", "mmd", "egpo", "nash-mp", "mwu", "omwu", "replicator"]


async def adversary(k: int, url: str, args, out: dict, honest_done: asyncio.Event) -> None:
    """A hostile session: heaviest accepted requests, each abandoned (tab closed) mid-run, until the class is done."""
    await asyncio.sleep(k * args.ramp / max(1, args.sessions))
    count = 0
    while not honest_done.is_set():
        page, query = HEAVY_REQUESTS[count % len(HEAVY_REQUESTS)]
        seed = 1000 * (k + 1) + count
        query = query.format(k=seed, tau=TAUS[seed % len(TAUS)], alg=SWEEP_SOLVERS[seed % len(SWEEP_SOLVERS)])
        try:
            session = ProtocolSession(url, timeout=args.timeout)
            await session.__aenter__()
            try:
                await asyncio.wait_for(session.open(query, page_name=page), args.abandon)
                out["adversarial_finished"] += 1  # answered (or refused) before the tab closed
            except TimeoutError:
                pass
            await session.close()
            out["adversarial_requests"] += 1
        except Exception as err:
            out["errors"].append(f"adversary {k}: {type(err).__name__}: {str(err).splitlines()[0][:120]}")
            await asyncio.sleep(1.0)
        count += 1
        await asyncio.sleep(0.2)


def browser_indices(sessions: int, browsers: int) -> set[int]:
    """Which sessions are real browsers: spread evenly over the joining order."""
    browsers = max(0, min(browsers, sessions))
    return {round(i * sessions / browsers) for i in range(browsers)} if browsers else set()


def percentiles(values: list[float]) -> dict:
    """n, p50, p95 and max of a list of seconds (None where there are none)."""
    values = sorted(values)

    def pct(q: int) -> float | None:
        if not values:
            return None
        return float(statistics.quantiles(values, n=100, method="inclusive")[q - 1]) if len(values) > 1 else values[0]

    return {
        "n": len(values),
        "p50": pct(50),
        "p95": pct(95),
        "max": max(values, default=None),
    }


async def main_async(args) -> dict:
    from playwright.async_api import async_playwright

    keys = ("first_chart", "edit_to_chart", "solver_switch", "server_first_run", "server_edit", "server_switch")
    out: dict = {k: [] for k in keys} | {"errors": [], "rss_mib": [], "charts_checked": 0}
    out |= {"adversarial_requests": 0, "adversarial_finished": 0}
    hostile = set(range(args.sessions - args.adversarial, args.sessions))  # the last to join
    real = browser_indices(args.sessions - len(hostile), args.browsers)
    executable = require_browser()
    with streamlit_process() as (url, proc):
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            # warm the server once (imports, caches) as a teacher opening the page before class would
            warm = await browser.new_page()
            await warm.goto(url)
            await warm.wait_for_selector(PLOTLY, timeout=180_000)
            await warm.close()
            baseline = rss_mib(proc.pid)
            cpu_before = cpu_seconds(proc.pid)
            done = asyncio.Event()

            async def sample() -> None:
                while not done.is_set():
                    out["rss_mib"].append(rss_mib(proc.pid))
                    await asyncio.sleep(0.5)

            sampler = asyncio.create_task(sample())
            start = time.perf_counter()
            honest_done = asyncio.Event()
            sessions = [
                student(k, browser, url, args, out) if k in real else protocol_student(k, url, args, out)
                for k in range(args.sessions)
                if k not in hostile
            ]
            hostile_tasks = [asyncio.create_task(adversary(k, url, args, out, honest_done)) for k in sorted(hostile)]
            try:
                await asyncio.wait_for(asyncio.gather(*sessions), timeout=args.limit)
            except TimeoutError:
                out["errors"].append(f"the whole test ran past its limit of {args.limit:g} s")
            honest_done.set()
            await asyncio.gather(*hostile_tasks)
            wall = time.perf_counter() - start
            server_cpu = cpu_seconds(proc.pid) - cpu_before
            done.set()
            await sampler
            await browser.close()
    peak = max(out["rss_mib"]) if out["rss_mib"] else float("nan")
    result = {
        "sessions": args.sessions,
        "browser_sessions": len(real),
        "protocol_sessions": args.sessions - len(real) - len(hostile),
        "adversarial": {
            "sessions": len(hostile),
            "requests_abandoned": out["adversarial_requests"],
            "answered_before_abandoned": out["adversarial_finished"],
            "abandon_after_s": args.abandon,
        },
        "edits_per_session": args.edits,
        "think_time_s": args.think,
        "ramp_s": args.ramp,
        "cores": os.cpu_count(),
        "wall_s": round(wall, 1),
        "browser": {
            "edit_to_chart_s": percentiles(out["edit_to_chart"]),
            "first_chart_s": percentiles(out["first_chart"]),
            "solver_switch_s": percentiles(out["solver_switch"]),
        },
        "server": {
            "edit_to_script_finished_s": percentiles(out["server_edit"]),
            "first_run_s": percentiles(out["server_first_run"]),
            "solver_switch_s": percentiles(out["server_switch"]),
            "charts_checked": out["charts_checked"],
        },
        "server_rss_mib": {"baseline": round(baseline, 1), "peak": round(peak, 1)},
        "server_mib_per_session": round((peak - baseline) / args.sessions, 2),
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
        "server_cpu_s": round(server_cpu, 1),
        "server_cpu_share": round(server_cpu / (wall * (os.cpu_count() or 1)), 3),
        "errors": out["errors"],
    }
    p95s = [result["browser"]["edit_to_chart_s"]["p95"], result["server"]["edit_to_script_finished_s"]["p95"]]
    result["target_met"] = not out["errors"] and all(v is None or v < TARGET_P95_S for v in p95s)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--browsers", type=int, default=4, help="how many sessions are real headless browsers")
    parser.add_argument("--edits", type=int, default=3, help="matrix edits per session")
    parser.add_argument("--think", type=float, default=5.0, help="mean think time between actions (s)")
    parser.add_argument("--ramp", type=float, default=60.0, help="seconds over which the sessions join")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds a page or an edit may take (else an error)"
    )
    parser.add_argument("--limit", type=float, default=900.0, help="hard limit on the whole test (s)")
    parser.add_argument(
        "--adversarial",
        type=int,
        default=0,
        help="how many of the sessions send the heaviest requests and abandon them",
    )
    parser.add_argument("--abandon", type=float, default=1.0, help="seconds before an adversary closes its tab")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "loadtest.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
