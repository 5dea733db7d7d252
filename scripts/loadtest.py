"""Classroom load test: N concurrent browser sessions against one `streamlit run` on this machine.

Each session (a separate Playwright browser context, as a separate student would be) opens the
Playground, then edits the preference matrix several times with a think time between edits and
switches the solver once. Measured: time from an edit to the updated chart (the Nash marker moves),
time to the first chart, server memory (resident set size of the Streamlit process, sampled every
0.5 s), and errors (exceptions shown in a page, timeouts). Loopback only; bounded in time.

    make loadtest                      # 30 sessions
    python scripts/loadtest.py --sessions 10 --edits 3

Writes test-artifacts/loadtest.json and prints a summary.
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

from tests.browser_helpers import (  # noqa: E402
    APP,
    ARTIFACTS,
    CELL_EDITOR,
    CHROMIUM_ARGS,
    CONNECTED,
    DATA_EDITOR,
    EXCEPTION,
    GRID_HEADER,
    GRID_ROW,
    IDLE,
    OPTION,
    PLOTLY,
    SELECTBOX,
    require_browser,
    streamlit_process,
)

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


async def edit_cell(page, row: int, col: int, value: str, timeout: float) -> float:
    """Type ``value`` into the matrix editor; seconds until the Nash marker moves."""
    grid = page.locator(DATA_EDITOR).first
    box = await grid.bounding_box()
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + GRID_HEADER + GRID_ROW * (row + 0.5))
    await page.keyboard.press("Home")
    for _ in range(col + 1):
        await page.keyboard.press("ArrowRight")
    await page.keyboard.press("Enter")
    editor = page.locator(CELL_EDITOR).first
    await editor.wait_for(timeout=10_000)
    old = await page.evaluate(NASH_JS)
    start = time.perf_counter()
    await editor.fill(value)
    await page.keyboard.press("Enter")
    await page.wait_for_function(f"() => ({NASH_JS})() !== {json.dumps(old)}", timeout=timeout)
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
        used = set()
        for e in range(args.edits):
            await asyncio.sleep(rng.uniform(args.think / 2, args.think * 1.5))
            value = f"{rng.uniform(0.05, 0.95):.3f}"
            while value in used:
                value = f"{rng.uniform(0.05, 0.95):.3f}"
            used.add(value)
            try:
                out["edit_to_chart"].append(await edit_cell(page, 0, 1 + e % 2, value, args.timeout * 1000))
            except Exception as err:  # a timeout is an error of the run, not of the script
                out["errors"].append(f"session {k} edit {e}: {type(err).__name__}")
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


async def main_async(args) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {"first_chart": [], "edit_to_chart": [], "solver_switch": [], "errors": [], "rss_mib": []}
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
            await asyncio.wait_for(
                asyncio.gather(*(student(k, browser, url, args, out) for k in range(args.sessions))),
                timeout=args.limit,
            )
            wall = time.perf_counter() - start
            server_cpu = cpu_seconds(proc.pid) - cpu_before
            done.set()
            await sampler
            await browser.close()
    edits = sorted(out["edit_to_chart"])

    def pct(values: list[float], q: float) -> float | None:
        if not values:
            return None
        return float(statistics.quantiles(values, n=100, method="inclusive")[q - 1]) if len(values) > 1 else values[0]

    peak = max(out["rss_mib"]) if out["rss_mib"] else float("nan")
    return {
        "sessions": args.sessions,
        "edits_per_session": args.edits,
        "think_time_s": args.think,
        "cores": os.cpu_count(),
        "wall_s": round(wall, 1),
        "edit_to_chart_s": {
            "n": len(edits),
            "p50": pct(edits, 50),
            "p95": pct(edits, 95),
            "max": max(edits, default=None),
        },
        "first_chart_s": {"p50": pct(sorted(out["first_chart"]), 50), "p95": pct(sorted(out["first_chart"]), 95)},
        "solver_switch_s": {"p50": pct(sorted(out["solver_switch"]), 50), "p95": pct(sorted(out["solver_switch"]), 95)},
        "server_rss_mib": {"baseline": round(baseline, 1), "peak": round(peak, 1)},
        "server_mib_per_session": round((peak - baseline) / args.sessions, 1),
        "server_cpu_s": round(server_cpu, 1),
        "server_cpu_share": round(server_cpu / (wall * (os.cpu_count() or 1)), 3),
        "errors": out["errors"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--edits", type=int, default=3, help="matrix edits per session")
    parser.add_argument("--think", type=float, default=3.0, help="mean think time between actions (s)")
    parser.add_argument("--ramp", type=float, default=15.0, help="seconds over which the sessions join")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds a page or an edit may take (else an error)"
    )
    parser.add_argument("--limit", type=float, default=900.0, help="hard limit on the whole test (s)")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "loadtest.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
