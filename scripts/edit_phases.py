"""Where the time of an edit goes, in a real headless Chromium: edit a cell -> chart, preset switch -> chart.

For each action the page records (with ``performance.now()``) when the key or click happened, when the
app's script started and finished running (``data-test-script-state``) and when the Playground's Nash
marker changed (polled every animation frame), and prints the medians of:

* ``total``: action -> the chart shows the new Nash marker;
* ``to_run_start``: action -> the script runs (the grid's commit, the websocket, the edit's callback);
* ``script``: the whole script run on the server;
* ``after_script_to_chart``: script finished -> chart updated (negative: the chart was drawn while the
  rest of the page was still being computed).

    python scripts/edit_phases.py --edits 8 --switches 6      # writes test-artifacts/edit_phases.json

Loopback only; one server, one browser tab; bounded by the counts given.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser_helpers import (  # noqa: E402
    ARTIFACTS,
    CHROMIUM_ARGS,
    OPTION,
    PLOTLY,
    _open_cell_editor,
    require_browser,
    streamlit_server,
    wait_idle,
)

INSTRUMENT = """() => {
  window.__ev = [];
  const app = document.querySelector('[data-testid=stApp]');
  new MutationObserver(() => window.__ev.push([app.getAttribute('data-test-script-state'), performance.now()]))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  const nash = () => { const gd = document.querySelectorAll('.js-plotly-plot')[0];
    const t = gd && gd.data && gd.data.find(d => d.name === 'Nash');
    return t ? JSON.stringify([t.a[0], t.b[0], t.c[0]]) : null; };
  window.__armed = null;
  const loop = () => { if (window.__armed !== null) { const v = nash();
      if (v !== null && v !== window.__armed) {
        window.__ev.push(['chart', performance.now()]); window.__armed = null; } }
    requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  window.__arm = () => { window.__ev = []; window.__armed = nash(); window.__t0 = performance.now(); };
}"""
CHART_SEEN = "() => window.__ev.some(e => e[0] === 'chart')"
#: Edited values of cell (rock, paper) of the first preset, each different from the one before.
VALUES = [0.2, 0.25, 0.35, 0.4, 0.15, 0.22, 0.33, 0.28, 0.38, 0.12]
#: Presets picked in turn: consecutive ones have different Nash equilibria, so the marker always moves.
PRESETS = [
    "rock-paper-scissors",
    "condorcet-winner",
    "rock-paper-scissors",
    "paper-elo",
    "rock-paper-scissors",
    "biased-cycle",
]


def phases(page) -> dict[str, float | None]:
    events, t0 = page.evaluate("() => window.__ev"), page.evaluate("() => window.__t0")
    start = next((t for s, t in events if s == "running"), None)
    done = [t for s, t in events if s == "notRunning"]
    end = done[-1] if done else None
    chart = next(t for s, t in events if s == "chart")
    return {
        "total": (chart - t0) / 1000,
        "to_run_start": (start - t0) / 1000 if start else None,
        "script": (end - start) / 1000 if start and end else None,
        "after_script_to_chart": (chart - end) / 1000 if end else None,
    }


def settle(page) -> None:
    page.wait_for_function(CHART_SEEN, timeout=120_000)
    wait_idle(page, 120_000)
    page.wait_for_timeout(300)


def measure(edits: int, switches: int) -> dict[str, list[dict]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[dict]] = {"edit": [], "preset switch": []}
    with streamlit_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=require_browser(), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 2000}).new_page()
        page.goto(url)
        wait_idle(page, 120_000)
        page.wait_for_selector(PLOTLY, timeout=120_000)
        page.evaluate(INSTRUMENT)
        current = 0.3
        for value in VALUES[:edits]:
            editor = _open_cell_editor(page, 0, 1, current)
            page.evaluate("() => window.__arm()")
            editor.fill(str(value))
            page.keyboard.press("Enter")
            settle(page)
            out["edit"].append(phases(page))
            current = value
        for name in PRESETS[:switches]:
            page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").filter(has_text="Preset").click()
            page.evaluate("() => window.__arm()")
            page.locator(OPTION).filter(has_text=name).first.click()
            settle(page)
            out["preset switch"].append(phases(page))
        browser.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=8, help=f"matrix edits (at most {len(VALUES)})")
    parser.add_argument("--switches", type=int, default=6, help=f"preset switches (at most {len(PRESETS)})")
    args = parser.parse_args()
    out = measure(min(args.edits, len(VALUES)), args.switches)
    summary = {}
    for action, rows in out.items():
        summary[action] = {}
        for key in rows[0]:
            values = [r[key] for r in rows if r[key] is not None]
            summary[action][key] = {"median": statistics.median(values), "max": max(values), "n": len(values)}
            print(f"{action:14s} {key:22s} median {statistics.median(values):6.3f} s   max {max(values):6.3f} s")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "edit_phases.json").write_text(json.dumps({"summary": summary, "runs": out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
