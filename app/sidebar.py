"""The sidebar every page shows: the game (preset, upload, downloads) and the shareable link."""

from __future__ import annotations

import re

import streamlit as st

from nlhf_core.errors import NLHFError
from nlhf_core.games.csv_format import game_to_csv
from nlhf_core.games.io import MAX_UPLOAD_BYTES, game_from_upload, game_to_json
from nlhf_core.games.presets import list_presets, preset_names

from .actions import action_link
from .controls import initial
from .links import share_url
from .safe_text import literal
from .state import (
    DEFAULT_PRESET,
    current_game,
    load_preset,
    set_game,
    synced_pairs,
    too_large_for_a_link,
)

#: Always visible under the uploader: the box itself says "5MB" and shows an oversize refusal only as a tooltip.
UPLOAD_NOTE = (
    f"Files up to {MAX_UPLOAD_BYTES // 2**20} MiB ({MAX_UPLOAD_BYTES:,} bytes; the box says "
    f"{MAX_UPLOAD_BYTES // 2**20}MB); a larger file is refused and the current game stays."
)


def _on_preset_change() -> None:
    load_preset(st.session_state.preset)


@st.cache_data(show_spinner=False)
def _summaries() -> dict[str, str]:
    """Each preset's one-line description: the first sentence of its story, without Markdown."""
    out = {}
    for preset in list_presets():
        first = re.split(r"(?<=[.:;])\s", preset.story.replace("*", "").replace("`", ""), maxsplit=1)[0]
        first = first.rstrip(".:;")
        out[preset.name] = first if len(first) <= 70 else first[:69].rsplit(" ", 1)[0] + "…"
    return out


def preset_label(name: str) -> str:
    """A preset as the picker lists it: its name and its one-line description."""
    return f"{name} — {_summaries().get(name, '')}"


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
            format_func=preset_label,
            help="Each preset comes with a story; edit its matrix in the Playground.",
        )
        st.caption(game_in_use())
        if ss.custom and st.button("Back to the preset", key="back-to-preset"):
            load_preset(ss.preset)
            st.rerun()
        ss["_notice_slot"] = st.container()  # filled by render_notices, after the page has run
        st.file_uploader("Upload a game (.csv or .json)", type=["csv", "json"], key="upload", on_change=_on_upload)
        st.caption(UPLOAD_NOTE)
        game = current_game()
        name = game.name or "game"
        cols = st.columns(2)
        # Written when clicked (a large game's file is megabytes; no rerun pays for it).
        cols[0].download_button(
            "Game JSON", lambda: game_to_json(game), f"{name}.json", "application/json", key="dl-json"
        )
        if not game.has_contexts:
            cols[1].download_button("Game CSV", lambda: game_to_csv(game), f"{name}.csv", "text/csv", key="dl-csv")


def game_in_use() -> str:
    """One line naming the game every page works on: the preset, an edit of it, an upload or a link."""
    ss = st.session_state
    origin = ss.game_origin
    if origin.startswith("preset "):
        what = f"preset **{literal(origin.removeprefix('preset '))}**"
    elif origin.startswith("uploaded file "):
        what = f"the uploaded file **{literal(origin.removeprefix('uploaded file '))}**"
    else:
        what = "the game of the link you opened"
    return f"Game in use: {what}" + (", edited" if ss.edited else "") + f" ({current_game().n} responses)."


def render_notices() -> None:
    """The session's notices (links that could not be followed, refused uploads), under the game picker."""
    slot = st.session_state.get("_notice_slot")
    if slot is None:
        return
    with slot:
        for notice in st.session_state.notices:
            st.warning(literal(notice))


def render_share_box(page_path: str, page_paths: list[str]) -> None:
    """The link to exactly this view; drawn after the page, once every control of the run is known."""
    with st.sidebar:
        st.divider()
        action_link(
            "app_pages/playground.py",
            "Start over",
            "reset",
            icon=":material/restart_alt:",
            help="Back to the first preset and every control's default, on the Playground.",
        )
        if too_large_for_a_link():
            st.info(
                "This game is too large for a link; download it (Game JSON above) and share the file, "
                "which anyone can upload here."
            )
            return
        st.caption("Link to exactly this view (game, policies, page and settings):")
        st.code(share_url(page_path, synced_pairs(), page_paths), language=None, wrap_lines=True)


def _on_upload() -> None:
    """Runs before the rerun, so the new game (or the reason it was refused) shows at once."""
    upload = st.session_state.upload
    if upload is not None:
        _load_upload(upload)


def _load_upload(upload) -> None:
    ss = st.session_state
    try:
        game = game_from_upload(upload.name, upload.getvalue())
    except (NLHFError, MemoryError) as err:
        ss.notices = [f"{err} The previous game is still in use."]
        return
    set_game(game, custom=True, origin=f"uploaded file {upload.name}")
    ss.notices = []
