"""Training jobs of the LM lab: one per session, a cap per server, and no job outliving its page.

A :class:`SessionJob` wraps :class:`nlhf_core.llm.api.TrainingJob` (a daemon thread that makes no
Streamlit calls). The page keeps it in ``st.session_state`` — never in a cache shared by sessions —
and its live view calls :meth:`SessionJob.touch` every second; a watchdog stops the job when the page
has not been seen for ``idle_timeout`` seconds (the tab was closed or the session ended). At most
``MAX_SERVER_JOBS`` jobs train at once on one server (env ``NLHF_MAX_TRAINING_JOBS``, default 2).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

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
