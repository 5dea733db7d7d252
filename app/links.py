"""The link to exactly this view: the game, the policies, the page and every control shown in this run.

Controls made with :func:`url_key` are bound to the URL (``bind="query-params"``; the key is the
parameter's name) and keep their value across pages of the session (``persist_state="session"``).
Streamlit keeps a bound parameter in the address bar only while it differs from the widget's
default *of that moment* and writes it from the browser after the run, so the address bar can miss
a value that the page shows (a parameter whose default changed with the solver). The shared link is
therefore built here, from the values this run used: every registered control (all the values of a
multi-valued one — a multiselect, a range slider — as repeated parameters), percent-encoded so that
it survives mail and chat (``?ctx=state%20a%20fact``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlencode

import streamlit as st

#: Session key of the controls registered during the current script run.
_LINKED = "_linked_keys"
#: Session key of the parameters a freshly opened link asked for (checked once, after its first run).
_REQUESTED = "_requested_params"


def begin_run() -> None:
    """Forget the previous run's controls (called at the top of every full script run)."""
    st.session_state[_LINKED] = {}


def url_key(key: str, format_func: Callable[[Any], str] = str) -> dict[str, Any]:
    """Widget arguments that bind it to the URL parameter ``key`` and put it in the shared link.

    Args:
        key: the widget's key, which is also its URL parameter.
        format_func: the widget's ``format_func`` (Streamlit matches a link's value to an option's label).

    Returns:
        ``key``, ``bind`` and ``persist_state`` arguments for a Streamlit widget (and ``format_func``
        when one is given).
    """
    linked: dict[str, Callable[[Any], str]] = st.session_state.setdefault(_LINKED, {})
    linked[key] = format_func
    kwargs: dict[str, Any] = {"key": key, "bind": "query-params", "persist_state": "session"}
    if format_func is not str:
        kwargs["format_func"] = format_func
    return kwargs


def url_values(value: Any, format_func: Callable[[Any], str] = str) -> list[str]:
    """A widget value as URL parameter values, written the way Streamlit reads them back.

    Options are matched by their label (``format_func``, ``str`` by default), booleans are
    ``true``/``false``, a sequence is one repeated parameter per item and an empty one is ``""``.
    """
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, (list, tuple)):
        return [format_func(v) for v in value] or [""]
    return [format_func(value)]


def share_query(synced: list[tuple[str, str]]) -> str:
    """The percent-encoded query string of this view: ``synced`` pairs, then every control of the run.

    Args:
        synced: ``(name, value)`` pairs the app keeps itself (game, policies), written first.

    Returns:
        The query string without ``?`` (spaces as ``%20``, never ``+``).
    """
    ss = st.session_state
    pairs = list(synced)
    for key, fmt in ss.get(_LINKED, {}).items():
        if key in ss and ss[key] is not None:
            pairs.extend((key, v) for v in url_values(ss[key], fmt))
    return urlencode(pairs, quote_via=quote, safe="")


def share_url(page_path: str, synced: list[tuple[str, str]], page_paths: Iterable[str] = ()) -> str:
    """The whole link: the app's address, the page's path and :func:`share_query`.

    Args:
        page_path: the shown page's URL path ("" for the Playground at the root).
        synced: the game and policy parameters (:func:`app.state.synced_pairs`).
        page_paths: every page's URL path; the browser's address may still end in one of them (it
            does after a page switch), which is not part of the app's own address.
    """
    base = str(st.context.url or "").split("?")[0].split("#")[0].rstrip("/")
    head, _, last = base.rpartition("/")
    if last in set(page_paths) and "//" in head:  # never strip the host itself
        base = head
    path = f"{base}/{page_path}" if page_path else f"{base}/"
    query = share_query(synced)
    return f"{path}?{query}" if query else path


# ---------------------------------------------------------------------- values a link asked for
def remember_requested() -> None:
    """On a session's first run, note every parameter of the link it was opened with."""
    params = st.query_params
    st.session_state[_REQUESTED] = {k: params.get_all(k) for k in params}


def refused_values() -> list[str]:
    """After the first run: one sentence per control whose link value was not used (out of range, unknown).

    Streamlit ignores a bound parameter it cannot use (``iters=10**12``, ``alg=nope``); this names the
    value and what the page uses instead. Empty after the first run.
    """
    ss = st.session_state
    requested: dict[str, list[str]] = ss.pop(_REQUESTED, None) or {}
    notices = []
    for key, fmt in ss.get(_LINKED, {}).items():
        used = url_values(ss[key], fmt) if key in ss else []
        if key in requested and used and not _same(requested[key], used):
            asked = ", ".join(requested[key]) or "(empty)"
            notices.append(
                f"The link asks for {key} = {asked}, which this control does not offer; "
                f"using {', '.join(used)} instead."
            )
    return notices


def _same(asked: list[str], used: list[str]) -> bool:
    """Whether the link's values are the ones in use (numbers compared as numbers, words case-blind)."""
    if len(asked) != len(used):
        return False
    return all(_same_value(a, u) for a, u in zip(asked, used, strict=True))


def _same_value(asked: str, used: str) -> bool:
    if asked.strip().lower() == used.lower():
        return True
    try:
        a, u = float(asked), float(used)
    except ValueError:
        return False
    return math.isclose(a, u, rel_tol=1e-12, abs_tol=0.0)
