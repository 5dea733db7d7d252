"""One-shot actions carried by a page link, ``?do=ACTION.NONCE``: a Learn-tour step, "Start over".

A link switches page and replaces the URL in one click, which a button cannot do once controls are
bound to the URL (Streamlit refuses to clear bound parameters on ``st.switch_page``). The app takes
the action on the run the link opens, once: the session remembers the last action it took and every
action link carries a fresh nonce, so a rerun that still carries the parameter does not repeat it,
while clicking the same link again does. Browser Back to the entry the link made (whose URL holds
nothing else) repeats it, which restores that view; later entries also hold the view's own
parameters and are restored from those (:func:`app.state.absorb_url`).
"""

from __future__ import annotations

import streamlit as st

PARAM = "do"
_DONE = "_action_done"
_NONCE = "_action_nonce"
#: Session keys an action keeps when it forgets the session ("Start over").
BOOKKEEPING = (_DONE, _NONCE)


def action_link(page: str, label: str, action: str, **kwargs) -> None:
    """A ``st.page_link`` to ``page`` that asks the app to take ``action`` when clicked."""
    nonce = st.session_state.get(_NONCE, 0)
    st.page_link(page, label=label, query_params={PARAM: f"{action}.{nonce}"}, **kwargs)


def pending_action(history_navigation: bool) -> str | None:
    """The action this run's URL asks for and the session has not taken yet (None if none)."""
    ss, params = st.session_state, st.query_params
    value = params.get(PARAM)
    if not value:
        return None
    repeat = history_navigation and set(params) == {PARAM}
    if value == ss.get(_DONE) and not repeat:
        return None
    ss[_DONE] = value
    ss[_NONCE] = ss.get(_NONCE, 0) + 1
    return value.rsplit(".", 1)[0]
