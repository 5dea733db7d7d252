"""The sidebar every page shows: the game (preset, upload, downloads) and the shareable link."""

from __future__ import annotations

import streamlit as st

from nlhf_core.errors import NLHFError
from nlhf_core.games.io import game_from_upload, game_to_csv, game_to_json
from nlhf_core.games.presets import preset_names

from .controls import initial
from .links import share_url
from .safe_text import literal
from .state import DEFAULT_PRESET, current_game, load_preset, set_game, synced_pairs


def _on_preset_change() -> None:
    load_preset(st.session_state.preset)


def render_sidebar() -> None:
    ss = st.session_state
    with st.sidebar:
        st.header("Game")
        st.selectbox(
            "Preset",
            preset_names(),
            **initial("preset", index=preset_names().index(DEFAULT_PRESET)),
            key="preset",
            on_change=_on_preset_change,
            help="Each preset comes with a story; edit its matrix in the Playground.",
        )
        if ss.custom:
            st.caption("You are working on an edited (custom) game; the link below carries it.")
            if st.button("Back to the preset", key="back-to-preset"):
                load_preset(ss.preset)
                st.rerun()
        ss["_notice_slot"] = st.container()  # filled by render_notices, after the page has run
        st.file_uploader("Upload a game (.csv or .json)", type=["csv", "json"], key="upload", on_change=_on_upload)
        game = current_game()
        name = game.name or "game"
        cols = st.columns(2)
        cols[0].download_button("Game JSON", game_to_json(game), f"{name}.json", "application/json", key="dl-json")
        if not game.has_contexts:
            cols[1].download_button("Game CSV", game_to_csv(game), f"{name}.csv", "text/csv", key="dl-csv")


def render_notices() -> None:
    """The session's notices (links that could not be followed, refused uploads), under the game picker."""
    slot = st.session_state.get("_notice_slot")
    if slot is None:
        return
    with slot:
        for notice in st.session_state.notices:
            st.warning(literal(notice))


def render_share_box(page_path: str) -> None:
    """The link to exactly this view; drawn after the page, once every control of the run is known."""
    with st.sidebar:
        st.divider()
        st.caption("Link to exactly this view (game, policies, page and settings):")
        st.code(share_url(page_path, synced_pairs()), language=None, wrap_lines=True)


def _on_upload() -> None:
    """Runs before the rerun, so the new game (or the reason it was refused) shows at once."""
    upload = st.session_state.upload
    if upload is not None:
        _load_upload(upload)


def _load_upload(upload) -> None:
    ss = st.session_state
    try:
        game = game_from_upload(upload.name, upload.getvalue())
    except NLHFError as err:
        ss.notices = [f"{err} The previous game is still in use."]
        return
    set_game(game, custom=True)
    ss.notices = []
