"""Reliability II (issue 18), heavy work: the budget of each page, compute slots, work that outlives its session."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import admission, jobs
from nlhf_core import budget
from nlhf_core.algorithms.trajectory import recording_steps
from nlhf_core.budget import (
    WorkEstimate,
    check_budget,
    comparison_work,
    describe_seconds,
    feedback_lab_work,
    playground_work,
    race_work,
    solver_run_work,
    sweep_work,
)
from nlhf_core.errors import BudgetError
from nlhf_core.games.presets import get_preset, preset_names
from tests.browser_helpers import ARTIFACTS, ROOT, streamlit_process
from tests.protocol_client import ProtocolSession


# ---------------------------------------------------------------------- the work budget (item 3)
def size(n: int, contexts: int = 1) -> SimpleNamespace:
    return SimpleNamespace(n=n, num_contexts=contexts)


def test_the_issue_s_heavy_run_is_refused_with_one_sentence():
    work = playground_work(size(1020), iterations=20_000, samples=1000)
    with pytest.raises(BudgetError) as err:
        check_budget(work)
    message = str(err.value)
    assert "\n" not in message and message.endswith(".") and message.count("; ") == 1
    assert message.startswith("The Playground's solver run (20,000 iterations, 1,000 sampled comparisons per response, "
                              "1,020 responses) would take about ")  # fmt: skip
    assert "hours of computing, more than the 6 s one request may use" in message
    assert message.endswith("lower the iterations or the sampled comparisons, or use a smaller game.")


def test_estimates_count_the_operations_of_each_request():
    n, C, T = 40, 2, 3000
    game = size(n, C)
    records = len(recording_steps(T, max(1, T // budget.FRAMES)))
    solve = budget.SOLVE_NS + C * n**3 * budget.REGULARIZED_CUBIC_NS
    exact = (
        T * (budget.ITERATION_NS + 2 * C * n * n * budget.EXACT_CELL_NS) + records * C * n * n * budget.RECORD_CELL_NS
    )
    assert solver_run_work(game, iterations=T, queries_per_iteration=2).seconds == pytest.approx((exact + solve) * 1e-9)
    sampled_query = budget.SAMPLED_QUERY_NS + C * n * n * budget.SAMPLED_CELL_NS * 3  # 1 + log10(100)
    sampled = T * (budget.ITERATION_NS + sampled_query) + records * C * n * n * budget.RECORD_CELL_NS
    assert solver_run_work(game, iterations=T, samples=100).seconds == pytest.approx((sampled + solve) * 1e-9)
    one = solver_run_work(game, iterations=T).seconds
    assert race_work(game, budget_queries=T, queries_per_iteration=[1, 1, 1]).seconds == pytest.approx(3 * one)
    assert (
        describe_seconds(4.4) == "4 s" and describe_seconds(600) == "10 minutes" and describe_seconds(7200) == "2 hours"
    )


@pytest.mark.parametrize("name", preset_names())
def test_every_page_accepts_its_defaults_on_every_preset(name):
    game = get_preset(name)
    check_budget(playground_work(game, iterations=2000, overlay=(1000, 64)))
    check_budget(race_work(game, budget_queries=2000, queries_per_iteration=[1, 2, 1, 1]))
    check_budget(sweep_work(game, settings=144, iterations=500, taus=12))
    check_budget(comparison_work(game))
    lab = dict(size=1000, adaptive=False, curve_sizes=[30, 100, 300, 1000, 3000], seeds=5, online_iterations=300)
    check_budget(feedback_lab_work(game, online_batch=128, **lab))


LABELS = ["nash-md", "nash-ema", "omd", "mwu", "nash-mp", "egpo", "mmd", "omwu", "fictitious-play", "replicator"]
ALL_SOLVERS = [*LABELS, "best-response"]
SAMPLED_MAX = [["select_slider", "iters", 20000], ["select_slider", "samples", 1000]]
OVERLAY_MAX = [
    ["toggle", "pg-on", True],
    ["run", "", None],
    ["select_slider", "pg-steps", 4000],
    ["select_slider", "pg-batch", 1024],
]
FEEDBACK_MAX = [
    ["select_slider", "fb_n", 30000],
    ["radio", "fb_sampling", "adaptive"],
    ["select_slider", "fb_batch", 512],
]
RACERS = ["multiselect", "racers", ALL_SOLVERS]
HEAVIEST = [  # (name, request, refused?): the largest controls of each page
    ("playground sampled", {"widgets": SAMPLED_MAX}, False),
    ("playground extragradient sampled", {"query": {"alg": "nash-mp"}, "widgets": SAMPLED_MAX}, True),
    ("playground overlay", {"widgets": OVERLAY_MAX}, True),
    ("race", {"widgets": [RACERS, ["select_slider", "race_budget", 20000]]}, True),
    ("race at 5000 queries", {"widgets": [RACERS, ["select_slider", "race_budget", 5000]]}, False),
    ("sweeps", {"widgets": [["select_slider", "sw_iters", 5000]]}, False),
    ("feedback lab", {"widgets": FEEDBACK_MAX}, False),
    ("sweeps, 120 responses", {"n": 120, "widgets": [["select_slider", "sw_iters", 5000]]}, True),
    ("playground, 120 responses", {"n": 120, "widgets": SAMPLED_MAX}, True),
    ("playground exact, 120 responses", {"n": 120, "widgets": [["select_slider", "iters", 20000]]}, False),
    ("nlhf vs rlhf, 120 responses", {"n": 120, "widgets": [["select_slider", "rtau", 0.01]]}, False),
]  # fmt: skip
PAGE_OF = {
    "playground": "playground",
    "race": "race",
    "sweeps": "sweeps",
    "feedback": "feedback_lab",
    "nlhf": "nlhf_vs_rlhf",
}


def run_page_request(request: dict) -> dict:
    """One page request through AppTest in a fresh process with one BLAS thread (tests/page_cpu.py)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.page_cpu", json.dumps(request)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize(("name", "request_", "refused"), HEAVIEST, ids=[h[0] for h in HEAVIEST])
def test_the_heaviest_request_of_each_page_is_refused_or_fits_the_budget(name, request_, refused):
    request = {"page": PAGE_OF[name.split()[0].rstrip(",")], "query": {"preset": "random-preferences"}, **request_}
    if "n" in request:
        request["query"] = {}
    if "query" in request_:
        request["query"] = {**request["query"], **request_["query"]}
    result = run_page_request(request)
    assert not result["exceptions"] and not result["errors"], result
    if refused:
        assert len(result["refusals"]) == 1 and "would take about" in result["refusals"][0], result
    else:
        assert not result["refusals"] and result["charts"] > 0, result
        assert result["cpu"] <= 1.25 * budget.BUDGET_SECONDS, result  # the page, rendering included


# ---------------------------------------------------------------------- work that outlives its session (item 3, 9)
class EndlessJob:
    """Stands in for TrainingJob: trains until told to stop."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self._thread = threading.Thread(target=self.stop_event.wait, daemon=True)

    def start(self) -> EndlessJob:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


def test_a_session_s_end_stops_its_job_and_deletes_its_run_directories():
    work = jobs.SessionWork()
    first = work.new_run_dir()
    (first / "run").mkdir()
    second = work.new_run_dir()  # a new run deletes the previous one
    assert not first.exists() and second.exists()
    refused = work.new_run_dir()
    work.discard(refused)  # a refused start leaves nothing behind
    assert not refused.exists() and not second.exists()
    out = work.new_run_dir()
    job = work.own(jobs.SessionJob(EndlessJob())).start()
    start = time.monotonic()
    work.release()  # what Streamlit calls when the session's websocket closes
    job.join(5)
    for _ in range(50):
        if not out.exists():
            break
        time.sleep(0.1)
    assert not job.running and job.stopped_for_session_end and not out.exists()
    assert time.monotonic() - start < 5
    assert jobs.active_jobs() == 0


def test_heavy_requests_wait_for_a_compute_slot_and_light_ones_never_do():
    heavy, light = WorkEstimate("a heavy request", 2.0, "x"), WorkEstimate("an edit", 0.01, "x")
    go = threading.Event()
    done: list[str] = []

    def request(name: str, hold: threading.Event | None) -> None:
        admission.admit(heavy)
        done.append(name)
        if hold is not None:
            hold.wait(10)
        admission.release()

    holders = [threading.Thread(target=request, args=(f"holder {k}", go)) for k in range(admission.HEAVY_SLOTS)]
    for thread in holders:
        thread.start()
    while admission.busy_slots() < admission.HEAVY_SLOTS:
        time.sleep(0.01)
    queued = threading.Thread(target=request, args=("queued", None))
    queued.start()
    start = time.monotonic()
    admission.admit(light)  # an edit while every slot is taken: no wait
    assert time.monotonic() - start < 0.2
    with pytest.raises(BudgetError):
        admission.admit(WorkEstimate("a huge request", 1e6, "lower it"))  # refused at once, before any wait
    queued.join(0.6)
    assert "queued" not in done  # still waiting for a slot
    go.set()
    for thread in [*holders, queued]:
        thread.join(5)
    assert done[-1] == "queued" and admission.busy_slots() == 0


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seconds_until_idle(pid: int, limit: float, quiet: float = 1.5) -> float:
    """Wall seconds until the server uses under 10% of a core for ``quiet`` seconds (``limit`` at most)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        before, t0 = server_cpu(pid), time.monotonic()
        time.sleep(quiet)
        if server_cpu(pid) - before < 0.1 * (time.monotonic() - t0):
            return time.monotonic() - start - quiet
    return limit


@pytest.mark.slow
def test_an_abandoned_heavy_run_ends_and_other_sessions_stay_responsive():
    heavy = "preset=random-preferences&iters=20000&samples=1000&seed={}"  # the heaviest accepted Playground run

    async def scenario(url: str, pid: int) -> dict:
        async with ProtocolSession(url, timeout=120) as victim:
            run = await victim.open()
            attackers = [ProtocolSession(url, timeout=120) for _ in range(4)]
            for k, attacker in enumerate(attackers):
                await attacker.__aenter__()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(attacker.open(heavy.format(k)), 1.0)  # starts, then the tab closes
            closed = time.monotonic()
            for attacker in attackers:
                await attacker.close()
            edits = []
            for value in (0.2, 0.3):
                run = await victim.edit_cell(run, 0, "paper", value)
                assert not run.exceptions()
                edits.append(run.seconds)
            await asyncio.to_thread(seconds_until_idle, pid, 120.0)
            return {"edits": edits, "idle_after_close": time.monotonic() - closed}

    with streamlit_process("app/serve.py") as (url, proc):
        result = asyncio.run(scenario(url, proc.pid))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "abandoned-run.json").write_text(json.dumps(result))
    # four abandoned runs of the budget's size (6 s of one core each): two compute (two slots), the two queued
    # ones never start; with slack for a machine shared with other jobs. The other session's edits are
    # answered meanwhile (they are light: no slot).
    assert result["idle_after_close"] < 60, result
    assert max(result["edits"]) < 10, result


@pytest.mark.slow
def test_a_closed_lm_lab_session_stops_training_and_deletes_its_files(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("NLHF_LM_LAB_SCALE", "0.2")

    def run_dirs() -> list[Path]:
        return sorted(tmp_path.glob("nlhf-lm-*"))

    async def scenario(url: str) -> float:
        session = ProtocolSession(url, timeout=300)
        await session.__aenter__()
        run = await session.open(page_name="lm-lab")
        run = await session.click(run, "Start training")
        assert not run.exceptions()
        for _ in range(240):  # until the job writes its first records
            if any((d / "run" / "metrics.jsonl").exists() for d in run_dirs()):
                break
            await asyncio.sleep(0.5)
        assert run_dirs(), "the job did not start"
        await session.close()
        start = time.monotonic()
        while run_dirs() and time.monotonic() - start < 120:
            await asyncio.sleep(0.2)
        return time.monotonic() - start

    with streamlit_process("app/serve.py") as (url, _):
        seconds = asyncio.run(scenario(url))
    assert not run_dirs() and seconds < 60, seconds  # stopped at its next step, then its files deleted
