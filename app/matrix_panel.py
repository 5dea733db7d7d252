"""The Playground's game editor: the preference matrix grid and adding, renaming, removing responses.

Every edit goes through ``nlhf_core.games.editing`` (which keeps P(a ≻ b) + P(b ≻ a) = 1 and
validates); an invalid edit stays on screen with the core's sentence while the last valid game stays
in use, and the sentence goes as soon as the grid holds a valid game again.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nlhf_core.errors import NLHFError
from nlhf_core.games.editing import add_response, apply_cell_edits, remove_response, rename_response
from nlhf_core.games.game import PreferenceGame

from . import state
from .safe_text import literal

#: Largest game edited cell by cell (a grid of n² cells is sent to the browser on every rerun).
EDITOR_MAX_RESPONSES = 100
#: Fewest responses a game keeps (a preference needs two things to compare).
MIN_RESPONSES = 2


def render_matrix_editor(game: PreferenceGame, context: int) -> None:
    """The grid of P(row ≻ column) for the shown prompt; edits replace the session's game."""
    ss = st.session_state
    st.subheader("Preference matrix")
    if game.n > EDITOR_MAX_RESPONSES:
        st.info(
            f"This game has {game.n} responses, too many to edit cell by cell here (at most "
            f"{EDITOR_MAX_RESPONSES}); download it, edit the file and upload it again."
        )
        return
    st.caption(
        "Cell (row, column) is P(row ≻ column), the probability that people prefer the row's response. "
        "Editing a cell sets its mirror to 1 − value, so every pair still adds up to 1."
    )
    base = pd.DataFrame(game.matrices[context], index=list(game.labels), columns=list(game.labels))
    editor_key = f"matrix-editor-{ss.editor_version}-{context}"
    try:
        st.data_editor(  # type: ignore[call-overload]  # Streamlit's overloads omit a DataFrame with on_change args
            base,
            key=editor_key,
            on_change=_commit_edits,
            args=(game, editor_key, context),
            column_config={
                label: st.column_config.NumberColumn(label, min_value=None, max_value=None, format="%.4g")
                for label in game.labels
            },
            width="stretch",
        )
    except (KeyError, IndexError, ValueError, TypeError):  # edits no grid of this matrix can send (a crafted client)
        ss.editor_version += 1
        ss.notices.append("An edit did not fit the matrix and was ignored; the grid was reset.")
        st.rerun()
    # The grid's edits as they stand now: applied if they reached the script without the callback
    # (scripted sessions), and an earlier error is re-checked, so it goes once the cells are valid again.
    if _commit_edits(game, editor_key, context):
        st.rerun()
    error = ss.get("editor_error")
    if error is not None and error[0] == editor_key:
        st.error(literal(f"{error[1]} The last valid game is still in use; your edit is kept above so you can fix it."))


def _commit_edits(game: PreferenceGame, editor_key: str, context: int) -> bool:
    """Apply the grid's edits to the game (the grid's callback: one script run per edit), or keep them
    and explain; returns whether the game changed. With no edit left (a cell typed back to its value)
    any earlier error goes."""
    ss = st.session_state
    edits = {}
    for row, changes in ss[editor_key].get("edited_rows", {}).items():
        for col, value in changes.items():
            if col in game.labels and str(row).isdigit() and int(row) < game.n:  # else not from this grid
                edits[(int(row), game.labels.index(col))] = value
    try:
        edited = apply_cell_edits(game, edits, context) if edits else game
    except NLHFError as err:
        ss.editor_error = (editor_key, str(err))
        return False
    ss.editor_error = None
    if state.fingerprint(edited) == state.fingerprint(game):
        return False
    state.set_game(edited, custom=True)
    return True


def render_response_editing(game: PreferenceGame) -> None:
    """Add, rename or remove a response (each a new game from the core; errors are its sentences)."""
    ss = st.session_state
    with st.expander("Add, rename or remove responses"):
        c1, c2 = st.columns([3, 1])
        c1.text_input("New response", key="new-label", placeholder="e.g. polite refusal")
        c2.button("Add", key="add-response", on_click=_add, args=(game,))
        c1, c2, c3 = st.columns([2, 2, 1])
        c1.selectbox("Response", game.labels, key="rename-which")
        c2.text_input("New name", key="rename-to")
        c3.button("Rename", key="rename-response", on_click=_rename, args=(game,))
        c1, c2 = st.columns([3, 1])
        c1.selectbox("Remove", game.labels, key="remove-which")
        too_few = game.n <= MIN_RESPONSES
        c2.button(
            "Remove",
            key="remove-response",
            on_click=_remove,
            args=(game,),
            disabled=too_few,
            help=f"A game needs at least {MIN_RESPONSES} responses." if too_few else None,
        )
        if too_few:
            st.caption(f"Removing is off: a game needs at least {MIN_RESPONSES} responses to compare.")
        if ss.get("response_error"):
            st.error(literal(ss.response_error))


def _edit(make) -> bool:
    """Make the game ``make()`` returns current, or keep the sentence of why it cannot be."""
    ss = st.session_state
    try:
        state.set_game(make(), custom=True)
    except NLHFError as err:
        ss.response_error = str(err)
        return False
    ss.response_error = None
    return True


def _add(game: PreferenceGame) -> None:
    if _edit(lambda: add_response(game, st.session_state["new-label"])):
        st.session_state["new-label"] = ""  # the box is ready for the next response


def _rename(game: PreferenceGame) -> None:
    ss = st.session_state
    if _edit(lambda: rename_response(game, ss["rename-which"], ss["rename-to"])):
        ss["rename-to"] = ""


def _remove(game: PreferenceGame) -> None:
    _edit(lambda: remove_response(game, st.session_state["remove-which"]))
