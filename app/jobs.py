"""Training jobs of the LM lab: one per session, a cap per server, and no job outliving its session.

A :class:`SessionJob` wraps :class:`nlhf_core.llm.api.TrainingJob` (a daemon thread that makes no
Streamlit calls). The page keeps it in ``st.session_state`` — never in a cache shared by sessions.
A watchdog asks whether the browser session that started the job is still connected
(:func:`session_probe`): the job trains on while its tab shows any page of the app, and stops once
the session has been gone for ``grace`` seconds (the tab was closed or the browser went away). A
stopped job's run directory holds its checkpoints: :meth:`SessionJob.resume` continues it. At most
``MAX_SERVER_JOBS`` jobs train at once on one server (env ``NLHF_MAX_TRAINING_JOBS``, default 2).

:func:`session_work` is the session's :class:`SessionWork` (a session-scoped resource): its job and its
temporary run directories. Streamlit releases it when the session ends (the websocket closes); the job
is then told to stop at once and, when its thread has ended, the directories are deleted. A start that
is refused deletes its directory at once, and a new run deletes the session's previous one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from nlhf_core.errors import NLHFError

MAX_SERVER_JOBS = int(os.environ.get("NLHF_MAX_TRAINING_JOBS", "2"))
#: Seconds a session may be disconnected (a network blip, a reload) before its job is stopped.
SESSION_GRACE_S = 15.0
_SLOTS = threading.BoundedSemaphore(MAX_SERVER_JOBS)
_ACTIVE: set[SessionJob] = set()
_ACTIVE_LOCK = threading.Lock()


class ServerBusyError(NLHFError):
    """Every training slot of the server is taken."""


def session_probe() -> Callable[[], bool]:
    """A function telling whether the calling script's browser session is still connected.

    Outside a running server (tests, scripts) there is no session to lose: it always says yes.
    """
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    session_id = ctx.session_id if ctx is not None else None

    def alive() -> bool:
        if session_id is None or not Runtime.exists():
            return True
        return bool(Runtime.instance().is_active_session(session_id))

    return alive


class SessionJob:
    """A training job owned by one browser session.

    Args:
        job: the trainer's job (``start``, ``stop``, ``join``, ``running``, ``records``, ``stop_event``).
        session_alive: whether the owning session is still connected (see :func:`session_probe`).
        grace: seconds of disconnection after which the job is stopped.
        earlier_records: the records of the runs this one resumes (shown before its own).
        clock: a monotonic clock (tests pass their own).
    """

    def __init__(
        self,
        job: Any,
        session_alive: Callable[[], bool] = lambda: True,
        grace: float = SESSION_GRACE_S,
        earlier_records: list[dict[str, Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job
        self.session_alive = session_alive
        self.grace = grace
        self.earlier_records = list(earlier_records or [])
        self.clock = clock
        self.stopped_for_session_end = False
        self._watchdog: threading.Thread | None = None

    def start(self) -> SessionJob:
        """Take a server slot and start training, or raise :class:`ServerBusyError`."""
        if not _SLOTS.acquire(blocking=False):
            raise ServerBusyError(
                f"The server is already training {MAX_SERVER_JOBS} models for other people; "
                f"try again when one finishes (or ask the teacher to raise NLHF_MAX_TRAINING_JOBS)."
            )
        with _ACTIVE_LOCK:
            _ACTIVE.add(self)
        try:
            self.job.start()
        except BaseException:
            self._release()
            raise
        self._watchdog = threading.Thread(target=self._watch, name="nlhf-train-watchdog", daemon=True)
        self._watchdog.start()
        return self

    def resume(self, make_job: Callable[[], Any]) -> SessionJob:
        """A new job continuing this stopped one from its checkpoints (``make_job`` builds it with
        ``resume=True`` on the same run directory), started, with this job's records before its own."""
        follow_up = SessionJob(make_job(), self.session_alive, self.grace, self.records, self.clock)
        return follow_up.start()

    def stop(self) -> None:
        self.job.stop()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the training thread to end."""
        self.job.join(timeout)

    @property
    def running(self) -> bool:
        return bool(self.job.running)

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every metrics record so far, the resumed runs' first."""
        return self.earlier_records + self.job.records

    def _watch(self) -> None:
        gone_since: float | None = None
        try:
            while self.job.running:
                if self.session_alive():
                    gone_since = None
                else:
                    gone_since = self.clock() if gone_since is None else gone_since
                    if self.clock() - gone_since > self.grace and not self.job.stop_event.is_set():
                        self.stopped_for_session_end = True
                        self.job.stop()
                self.job.join(0.5)
        finally:
            self._release()

    def _release(self) -> None:
        with _ACTIVE_LOCK:
            if self in _ACTIVE:
                _ACTIVE.discard(self)
                _SLOTS.release()


def active_jobs() -> int:
    """Jobs training now on this server."""
    with _ACTIVE_LOCK:
        return len(_ACTIVE)


class SessionWork:
    """The LM lab's work of one browser session: its job and its temporary run directories."""

    #: Seconds a released session's job may take to reach its next step before its files are deleted anyway.
    STOP_GRACE = 120.0

    def __init__(self) -> None:
        self.job: SessionJob | None = None
        self.run_dirs: list[Path] = []
        self.released = threading.Event()
        self._lock = threading.Lock()

    def new_run_dir(self) -> Path:
        """A fresh temporary directory for the next run; the session's previous runs are deleted."""
        with self._lock:
            old, self.run_dirs = self.run_dirs, []
        for path in old:
            shutil.rmtree(path, ignore_errors=True)
        path = Path(tempfile.mkdtemp(prefix="nlhf-lm-"))
        with self._lock:
            self.run_dirs.append(path)
        return path

    def discard(self, path: Path) -> None:
        """Delete a run directory whose start was refused."""
        with self._lock:
            self.run_dirs = [p for p in self.run_dirs if p != path]
        shutil.rmtree(path, ignore_errors=True)

    def own(self, job: SessionJob) -> SessionJob:
        """Record the session's (one) job, so that the session's end stops it."""
        self.job = job
        if self.released.is_set():  # the session ended while the job was being set up
            job.stop()
        return job

    def release(self) -> None:
        """The session ended: stop its job now; delete its directories once the job's thread has ended.

        Called by Streamlit on the server's event loop, so the waiting happens in a thread of its own.
        """
        self.released.set()
        job = self.job
        if job is not None:
            job.stopped_for_session_end = True
            job.stop()
        threading.Thread(target=self._clean_up, args=(job,), name="nlhf-session-cleanup", daemon=True).start()

    def _clean_up(self, job: SessionJob | None) -> None:
        if job is not None:
            job.join(self.STOP_GRACE)
        with self._lock:
            paths, self.run_dirs = self.run_dirs, []
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)


@st.cache_resource(scope="session", on_release=SessionWork.release, show_spinner=False)
def session_work() -> SessionWork:
    """This session's :class:`SessionWork` (released by Streamlit when the session ends)."""
    return SessionWork()
