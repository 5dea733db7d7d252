"""Helpers for the real-browser tests: start Streamlit, drive Chromium, one place for selectors.

Streamlit's test ids are not a public API, so every selector the tests use lives here.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"

APP = "[data-testid=stApp]"
CONNECTED = "[data-testid=stApp][data-test-connection-state=CONNECTED]"
IDLE = "[data-test-script-state=notRunning]"
EXCEPTION = "[data-testid=stException]"
PLOTLY = ".js-plotly-plot"
SELECTBOX = "[data-testid=stSelectbox]"
OPTION = "[role=option]"
INFO = "[data-testid=stAlertContentInfo]"
RADIO = "[data-testid=stRadioGroup]"
DATA_EDITOR = "[data-testid=stMain] [data-testid=stDataFrame]"
CELL_EDITOR = "#portal input, #portal textarea"
GRID_HEADER = 35  # px, Streamlit's data editor header and row heights
GRID_ROW = 35

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    """The browser to drive: $NLHF_CHROMIUM, or Debian's chromium."""
    for candidate in (os.environ.get("NLHF_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def require_browser() -> str:
    """Return the browser path, or skip (fail when NLHF_REQUIRE_BROWSER=1, as in CI)."""
    path = chromium_path()
    if path is None:
        message = "no Chromium found (install Debian's 'chromium'; `make test` does it when run as root)"
        if os.environ.get("NLHF_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_process(script: str = "app/serve.py", timeout: float = 60.0, extra_args: tuple[str, ...] = ()):
    """Run `streamlit run` on a free loopback port; yield ``(url, process)``; stop it by its own pid."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    log = open(ARTIFACTS / f"streamlit-{port}.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / script),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            *extra_args,
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Streamlit did not start; see {log.name}")
            time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def streamlit_server(script: str = "app/serve.py", timeout: float = 60.0):
    """Run `streamlit run` on a free loopback port; yield its URL."""
    with streamlit_process(script, timeout) as (url, _):
        yield url


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until the app is connected and its script has finished running."""
    page.wait_for_selector(CONNECTED, timeout=timeout)
    page.wait_for_selector(f"{APP}{IDLE}", timeout=timeout)


def screenshot(page, name: str, element: str | None = None) -> Path:
    """Save a PNG under test-artifacts/ (and docs/screenshots/ with NLHF_UPDATE_SCREENSHOTS=1).

    The whole page, or only the first element matching the CSS selector ``element``.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.wait_for(timeout=30_000)
    page.wait_for_timeout(800)  # let Plotly and the last elements finish drawing
    if element is None:
        page.screenshot(path=str(path), full_page=True)
    else:
        page.locator(element).first.screenshot(path=str(path))
    if os.environ.get("NLHF_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / path.name)
    return path


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox whose label is ``label``."""
    box = page.locator(SELECTBOX).filter(has_text=label)
    box.click()
    page.locator(OPTION).filter(has_text=option).first.click()


def pick_radio(page, option: str) -> None:
    """Click the radio button labelled ``option``."""
    page.locator(RADIO).get_by_text(option, exact=True).click()


def plot_value(page, index: int, key: str, trace: int = 0):
    """``data[trace][key]`` of the ``index``-th Plotly chart, read from the browser."""
    return page.evaluate(f"() => document.querySelectorAll('.js-plotly-plot')[{index}].data[{trace}]['{key}']")


def nash_marker(page) -> list[float]:
    """The exact Nash marker drawn on the Playground's simplex."""
    return page.evaluate(
        "() => { const gd = document.querySelectorAll('.js-plotly-plot')[0];"
        " const t = gd.data.find(d => d.name === 'Nash'); return [t.a[0], t.b[0], t.c[0]]; }"
    )


def cell_route(box: dict, row: int, col: int) -> tuple[float, float, list[str]]:
    """How to reach cell (row, col) of the canvas grid in ``box``: where to click, then which keys to press.

    A click on the middle of the row selects some cell of it; Home goes to the row's label (index)
    column, each ArrowRight one column on, and Enter opens the cell editor.
    """
    y = box["y"] + GRID_HEADER + GRID_ROW * (row + 0.5)
    return box["x"] + box["width"] / 2, y, ["Home", *["ArrowRight"] * (col + 1), "Enter"]


def _open_cell_editor(page, row: int, col: int, current: float | None, tries: int = 3):
    """Open the grid's cell editor at (row, col); with ``current``, check it opened on the cell holding that value.

    Keyboard navigation on the canvas can lose a key while the page is busy (two browsers on two cores),
    so the editor's initial text tells us whether we landed on the intended cell; if not we escape and retry.
    """
    grid = page.locator(DATA_EDITOR).first
    for attempt in range(tries):
        x, y, keys = cell_route(grid.bounding_box(), row, col)
        page.mouse.click(x, y)
        for key in keys:
            page.keyboard.press(key)
        editor = page.locator(CELL_EDITOR).first
        editor.wait_for(timeout=10_000)
        if current is None or abs(float(editor.input_value()) - current) < 1e-9:
            return editor
        page.keyboard.press("Escape")
        page.wait_for_timeout(300 * (attempt + 1))
    raise AssertionError(f"could not open the editor on cell ({row}, {col}) holding {current}")


def edit_matrix_cell(
    page,
    row: int,
    col: int,
    n: int,
    value: str,
    *,
    expect_change: bool = True,
    probe: tuple[int, str] | None = None,
    before=None,
    current: float | None = None,
    timeout: float = 60_000,
) -> float:
    """Type ``value`` into the Playground's matrix editor at (row, col); return seconds until the chart changes.

    The grid is a canvas: we select a cell of the row with a click, move with the keyboard to the column
    (Home is the label column), open the cell editor with Enter and type. By default the change is
    detected on the Nash marker.
    """
    editor = _open_cell_editor(page, row, col, current)
    if probe is None:
        probe_js = (
            "() => { const gd = document.querySelectorAll('.js-plotly-plot')[0];"
            " const t = gd.data.find(d => d.name === 'Nash'); return JSON.stringify([t.a[0], t.b[0], t.c[0]]); }"
        )
    else:
        probe_js = (
            f"() => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[{probe[0]}].data[0]['{probe[1]}'])"
        )
    old = page.evaluate(probe_js)
    start = time.perf_counter()
    editor.fill(value)
    page.keyboard.press("Enter")
    if expect_change:
        page.wait_for_function(f"() => ({probe_js})() !== {json.dumps(old)}", timeout=timeout)
    return time.perf_counter() - start


# ---------------------------------------------------------------------- fixtures shared by the browser test modules
# A module uses them by importing ``browser_fixture, app_url_fixture, context_fixture`` (they register as
# ``browser``, ``app_url`` and ``context``; ``app_url`` starts one server per module).
#: Seconds measured by the browser tests, merged into test-artifacts/timings.json (reported, not asserted).
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module", name="browser")
def browser_fixture():
    executable = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module", name="app_url")
def app_url_fixture(browser):
    """Start the app with the project's command and time it until the first chart is drawn."""
    ARTIFACTS.mkdir(exist_ok=True)
    os.environ["NLHF_LM_LAB_SCALE"] = "0.3"  # the LM lab's quick budget, shortened for CI
    start = time.perf_counter()
    with streamlit_server() as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector(PLOTLY, timeout=120_000)
        TIMINGS["server start to first chart (s)"] = time.perf_counter() - start
        page.close()
        yield url
    path = ARTIFACTS / "timings.json"
    merged = {**(json.loads(path.read_text()) if path.exists() else {}), **TIMINGS}
    path.write_text(json.dumps(merged, indent=1))
    print("\nbrowser timings:", json.dumps(TIMINGS, indent=1))


@pytest.fixture(name="context")
def context_fixture(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 2000})
    yield ctx
    ctx.close()


def open_page(context, url: str):
    """A new tab of ``context`` on ``url``, once the app is connected and idle."""
    page = context.new_page()
    page.goto(url)
    wait_idle(page, timeout=90_000)
    return page


SHARE_BOX = "[data-testid=stSidebar] [data-testid=stCode] code"


def shared_link(page) -> str:
    """The sidebar's "Link to exactly this view", as a user would copy it."""
    page.locator(SHARE_BOX).last.wait_for(timeout=60_000)
    return page.locator(SHARE_BOX).last.inner_text().strip()


def chart_data(page) -> str:
    """Every Plotly chart's traces, as JSON (the data a reader sees, in page order)."""
    return page.evaluate("() => JSON.stringify([...document.querySelectorAll('.js-plotly-plot')].map(gd => gd.data))")
