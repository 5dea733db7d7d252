"""Admission of a page's heavy request: the work budget, then one of the server's few compute slots.

:func:`admit` checks the request's estimate (:func:`nlhf_core.budget.check_budget`, one sentence when
it is too much) and, for a request estimated at :data:`LIGHT_SECONDS` or more, waits for one of
``NLHF_HEAVY_SLOTS`` slots (default 2, the machine's cores) before the page computes. The slot is
held until the script run ends: ``app/main.py`` calls :func:`release` in the ``finally`` around the
page, which also runs when Streamlit stops the script (a closed tab, a new click).

While it waits, the page shows a caption and updates it a few times a second; every update is a
Streamlit call, where Streamlit stops a script whose session has ended or whose user has clicked
again. So requests abandoned in a queue never start, at most ``NLHF_HEAVY_SLOTS`` heavy computations
run at once however many tabs send them, and light requests (a matrix edit) never wait.
"""

from __future__ import annotations

import os
import threading
import time

import streamlit as st

from nlhf_core.budget import WorkEstimate, check_budget

#: Heavy requests computing at once on this server.
HEAVY_SLOTS = max(1, int(os.environ.get("NLHF_HEAVY_SLOTS", "2")))
#: Requests estimated below this many seconds run at once, without a slot.
LIGHT_SECONDS = 0.5
_SLOTS = threading.BoundedSemaphore(HEAVY_SLOTS)
_held = threading.local()  # per script thread: does this run hold a slot?
_busy = [0]
_busy_lock = threading.Lock()


def admit(work: WorkEstimate) -> WorkEstimate:
    """Refuse ``work`` past the budget; otherwise, if it is heavy, wait for a compute slot for this run.

    Args:
        work: the page's estimate (``nlhf_core.budget``).

    Returns:
        ``work``, once it may run.

    Raises:
        BudgetError: the request is too large (one sentence).
    """
    check_budget(work)
    if work.seconds < LIGHT_SECONDS or getattr(_held, "slot", False):
        return work
    notice = st.empty()
    start = time.monotonic()
    while not _SLOTS.acquire(timeout=0.25):
        waited = time.monotonic() - start
        notice.caption(f"Waiting for the server: other people's large requests are computing ({waited:.1f} s)…")
    notice.empty()
    _held.slot = True
    with _busy_lock:
        _busy[0] += 1
    return work


def release() -> None:
    """Give back this script run's slot, if it holds one (``app/main.py`` calls this when the page ends)."""
    if getattr(_held, "slot", False):
        _held.slot = False
        with _busy_lock:
            _busy[0] -= 1
        _SLOTS.release()


def busy_slots() -> int:
    """Slots in use now (for tests)."""
    with _busy_lock:
        return _busy[0]
