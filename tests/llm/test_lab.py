"""The LM lab page (AppTest) and its job control: one job per session, a server cap, no orphaned jobs."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import jobs
from app.lm_lab_support import lab_config, zip_run_dir
from app.safe_text import literal
from nlhf_core.games.presets import get_preset
from nlhf_core.llm.progress import read_progress, valid_share
from nlhf_core.llm.verdict import verdict
from nlhf_core.viz.palette import colour_of

APP = str(Path(__file__).resolve().parents[2] / "app" / "main.py")


class FakeJob:
    """Stands in for TrainingJob: runs until stopped."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self):
        self._thread = threading.Thread(target=self.stop_event.wait, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout=None) -> None:
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def test_server_caps_concurrent_jobs_and_frees_slots():
    started = [jobs.SessionJob(FakeJob()).start() for _ in range(jobs.MAX_SERVER_JOBS)]
    try:
        assert jobs.active_jobs() == jobs.MAX_SERVER_JOBS
        with pytest.raises(jobs.ServerBusyError, match="already training"):
            jobs.SessionJob(FakeJob()).start()
    finally:
        for j in started:
            j.stop()
        for j in started:
            j._watchdog.join(5)
    assert jobs.active_jobs() == 0
    extra = jobs.SessionJob(FakeJob()).start()  # a slot is free again
    extra.stop()
    extra._watchdog.join(5)


def test_a_job_trains_on_while_its_session_lives_whatever_the_page():
    now = [0.0]
    job = jobs.SessionJob(FakeJob(), session_alive=lambda: True, grace=15, clock=lambda: now[0]).start()
    now[0] = 3600.0  # an hour on other pages of the same tab: the session is still connected
    job.job.join(1.0)
    assert job.running and not job.stopped_for_session_end
    job.stop()
    job._watchdog.join(5)
    assert jobs.active_jobs() == 0


def test_a_job_stops_once_its_session_has_been_gone_for_the_grace_period():
    now, alive = [0.0], [True]
    job = jobs.SessionJob(FakeJob(), session_alive=lambda: alive[0], grace=15, clock=lambda: now[0]).start()
    alive[0] = False  # the tab was closed
    job.job.join(1.0)
    now[0] = 10.0  # gone 10 s: within the grace (a reload, a network blip)
    job.job.join(1.0)
    assert job.running
    alive[0] = True  # it came back: the count starts again
    job.job.join(1.0)
    alive[0] = False
    job.job.join(1.0)
    now[0] = 20.0
    job.job.join(1.0)
    assert job.running
    now[0] = 40.0
    job._watchdog.join(5)
    assert not job.running and job.stopped_for_session_end
    assert jobs.active_jobs() == 0


class RecordingJob(FakeJob):
    def __init__(self, records) -> None:
        super().__init__()
        self._own = records

    @property
    def records(self):
        return list(self._own)


def test_a_stopped_job_resumes_with_its_earlier_records():
    first = jobs.SessionJob(RecordingJob([{"stage": "sft", "step": 1}])).start()
    first.stop()
    first._watchdog.join(5)
    second = first.resume(lambda: RecordingJob([{"stage": "sft", "step": 2}]))
    try:
        assert second.running and [r["step"] for r in second.records] == [1, 2]
    finally:
        second.stop()
        second._watchdog.join(5)
    assert jobs.active_jobs() == 0


def test_lab_config_scales_every_budget():
    cfg = lab_config("preset:two-prompts", size="small", budget="quick", methods=["nash-md-pg"], scale=0.2, seed=3)
    assert cfg["model"] == {"n_layer": 4, "n_head": 4, "n_embd": 128}
    assert cfg["policy"]["methods"] == ["nash-md-pg"] and cfg["run"]["seed"] == 3
    assert cfg["sft"]["steps"] == 30 and cfg["data"]["pairs"] == 205 and cfg["policy"]["steps"] == 16


def test_lab_config_carries_the_presets_own_settings():
    cfg = lab_config("preset:paper-comparison", budget="quick", tau=0.1, beta=0.5)
    assert cfg["task"] == {"game": "preset:paper-comparison", "hedges": ["maybe"]}
    assert cfg["sft"]["answer_weights"] == [0.05, 0.05, 0.7, 0.2] and cfg["rlhf"]["tau"] == 0.3
    assert cfg["data"]["rounds"] == 2 and cfg["data"]["reward_pairs"] == "sft"
    assert cfg["data"]["pairs"] == 1024 and cfg["data"]["explore_steps"] == cfg["policy"]["steps"] // 2 == 40
    assert cfg["policy"]["beta"] == 0.5 and cfg["sft"]["steps"] == 150  # the budget's steps stay
    plain = lab_config("preset:two-prompts", budget="quick")
    assert "rounds" not in plain["data"] and "hedges" not in plain["task"] and "tau" not in plain.get("rlhf", {})


def test_progress_folds_records():
    records = [
        {"stage": "sft", "step": 1, "loss": 2.0},
        {"stage": "sft", "step": 2, "loss": 1.5},
        {
            "stage": "reference",
            "step": 0,
            "labels": ["a", "b", "malformed"],
            "prompts": ["p"],
            "reference_distribution": [[0.6, 0.2, 0.2]],
            "regularized_nash": [[0.5, 0.5, 0.0]],
            "tau": 0.1,
        },
        {"stage": "nash-md-pg", "step": 5, "loss": 0.1, "distribution": [[0.3, 0.6, 0.1]], "samples": [["p", "a"]]},
    ]
    progress = read_progress(records)
    assert progress.curves["sft"]["loss"] == ([1, 2], [2.0, 1.5])
    np.testing.assert_allclose(valid_share(progress.reference), [[0.75, 0.25]])
    np.testing.assert_allclose(valid_share(progress.distributions["nash-md-pg"][1]), [[1 / 3, 2 / 3]])
    assert progress.samples["nash-md-pg"] == [["p", "a"]] and progress.stage == "nash-md-pg"


def test_lm_lab_trains_and_shows_exact_win_rates(monkeypatch):
    monkeypatch.setenv("NLHF_LM_LAB_SCALE", "0.2")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/lm_lab.py").run()
    assert not at.exception
    assert at.radio(key="lm-source").value == "A preset" and at.selectbox(key="lm-preset").value == "paper-comparison"
    assert at.number_input(key="lm-beta").value == 0.5
    at.multiselect(key="lm-methods").set_value(["rlhf", "nash-md-pg"])
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception, at.exception
    job = at.session_state["lm_job"]
    job.job.join(600)
    assert job.job.status == "finished", job.job.error
    at.run()
    assert not at.exception
    summary = json.loads((job.job.out_dir / "summary.json").read_text())
    assert summary["methods"] == ["sft", "rlhf", "nash-md-pg"]
    assert (job.job.out_dir / "data" / "pairs-round-2.safetensors").exists()  # the preset's two feedback rounds
    game = get_preset("paper-comparison")
    said = verdict(summary, game.matrices, game.weights)
    assert literal(said) in [s.value for s in at.success] and ("beats" in said or "tie" in said)
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heat = next(f for f in figures if f["data"] and f["data"][0].get("type") == "heatmap")
    W = np.array(heat["data"][0]["z"])
    expected = np.array([[summary["win_rates"][a][b] for b in summary["methods"]] for a in summary["methods"]])
    np.testing.assert_allclose(W, expected, rtol=1e-6)
    np.testing.assert_allclose(W + W.T, 1.0, atol=1e-9)
    lines = [t for f in figures for t in f["data"] if t.get("mode") == "lines"]
    assert {"rlhf", "nash-md-pg", "self-play-explorer-round-2"} <= {t["name"] for t in lines}
    for trace in lines:  # every stage and method in its role's colour, as in every other chart
        assert trace["line"]["color"] == colour_of(trace["name"]), trace["name"]
    assert "Run directory (zip)" in [b.label for b in at.get("download_button")]
    assert len(zip_run_dir(job.job.out_dir)) > 1000


def test_training_jobs_belong_to_their_session(monkeypatch):
    monkeypatch.setenv("NLHF_LM_LAB_SCALE", "0.05")
    alice, bob = (AppTest.from_file(APP, default_timeout=120) for _ in range(2))
    for at in (alice, bob):
        at.run()
        at.switch_page("app_pages/lm_lab.py").run()
    alice.radio(key="lm-source").set_value("A preset")
    alice.button[0].click()
    alice.run()
    job = alice.session_state["lm_job"]
    try:
        bob.run()
        assert "lm_job" not in bob.session_state
        assert any("Nothing trained yet" in c.value for c in bob.caption)
        assert not bob.exception and not alice.exception
    finally:
        job.stop()
        job.job.join(120)
        job._watchdog.join(10)
    assert jobs.active_jobs() == 0


class FakeTrainingJob(FakeJob):
    """Stands in for nlhf_core.llm.api.TrainingJob on the page: remembers how it was made."""

    made: ClassVar[list[tuple[dict, Path, bool]]] = []

    def __init__(self, config, out_dir, *, resume: bool = False) -> None:
        super().__init__()
        self.config, self.out_dir, self.resume = config, Path(out_dir), resume
        self.summary, self.error = None, None
        FakeTrainingJob.made.append((config, self.out_dir, resume))
        self.step = len(FakeTrainingJob.made)

    @property
    def status(self) -> str:
        return "running" if self.running else "stopped"

    @property
    def records(self):
        return [{"stage": "sft", "step": self.step, "loss": 1.0}]


def test_lm_lab_keeps_its_settings_and_resumes_a_stopped_run(monkeypatch):
    import nlhf_core.llm.api

    monkeypatch.setattr(nlhf_core.llm.api, "TrainingJob", FakeTrainingJob)
    FakeTrainingJob.made = []
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/lm_lab.py").run()
    at.radio(key="lm-source").set_value("A preset")
    at.number_input(key="lm-tau").set_value(0.25)
    at.multiselect(key="lm-methods").set_value(["rlhf", "nash-md-pg"])
    at.button[0].click()  # the form's submit
    at.run()
    job = at.session_state["lm_job"]
    assert FakeTrainingJob.made[-1][0]["policy"]["tau"] == 0.25 and not FakeTrainingJob.made[-1][2]
    at.switch_page("app_pages/playground.py").run()  # another page of the same tab: the job trains on
    assert job.running
    at.switch_page("app_pages/lm_lab.py").run()
    assert at.number_input(key="lm-tau").value == 0.25 and at.multiselect(key="lm-methods").value == [
        "rlhf",
        "nash-md-pg",
    ]
    assert "lm-tau=0.25" in at.sidebar.code[-1].value
    at.button(key="lm-cancel").click().run()
    job._watchdog.join(5)
    at.run()
    assert any("Stopped at stage" in w.value for w in at.warning)
    at.button(key="lm-resume").click().run()
    resumed = at.session_state["lm_job"]
    try:
        config, out_dir, resume = FakeTrainingJob.made[-1]
        assert resume and out_dir == job.job.out_dir and config == job.job.config
        assert resumed.running and [r["step"] for r in resumed.records] == [1, 2]
    finally:
        resumed.stop()
        resumed._watchdog.join(5)
    assert jobs.active_jobs() == 0
