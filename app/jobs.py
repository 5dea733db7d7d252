"""Training jobs of the LM lab: one per session, a cap per server, and no job outliving its page.

A :class:`SessionJob` wraps :class:`nlhf_core.llm.api.TrainingJob` (a daemon thread that makes no
Streamlit calls). The page keeps it in ``st.session_state`` — never in a cache shared by sessions —
and its live view calls :meth:`SessionJob.touch` every second; a watchdog stops the job when the page
has not been seen for ``idle_timeout`` seconds. At most ``MAX_SERVER_JOBS`` jobs train at once on one
server (env ``NLHF_MAX_TRAINING_JOBS``, default 2).

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
from pathlib import Path
from typing import Any

import streamlit as st

from nlhf_core.errors import NLHFError

MAX_SERVER_JOBS = int(os.environ.get("NLHF_MAX_TRAINING_JOBS", "2"))
_SLOTS = threading.BoundedSemaphore(MAX_SERVER_JOBS)
_ACTIVE: set[SessionJob] = set()
_ACTIVE_LOCK = threading.Lock()


class ServerBusyError(NLHFError):
    """Every training slot of the server is taken."""


class SessionJob:
    """A training job owned by one browser session."""

    def __init__(self, job: Any, idle_timeout: float = 60.0, clock=time.monotonic) -> None:
        self.job = job
        self.idle_timeout = idle_timeout
        self.clock = clock
        self.last_seen = clock()
        self.stopped_for_idle = False
        self._watchdog: threading.Thread | None = None

    def start(self) -> SessionJob:
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

    def touch(self) -> None:
        """The page is still showing this job."""
        self.last_seen = self.clock()

    def stop(self) -> None:
        self.job.stop()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the training thread to end."""
        self.job.join(timeout)

    @property
    def running(self) -> bool:
        return bool(self.job.running)

    def _watch(self) -> None:
        try:
            while self.job.running:
                if self.clock() - self.last_seen > self.idle_timeout and not self.job.stop_event.is_set():
                    self.stopped_for_idle = True
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
            job.stopped_for_idle = True
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
