"""The app's shared state: the current game, reference and initial policy, kept in the URL.

Widgets that can be bound to the URL are (``bind="query-params"``, their key is the
parameter name). The game and the two policies cannot (they come from editors), so they
live in ``st.session_state`` and are mirrored to ``?game=`` (a compressed link of a
custom game), ``?preset=`` and ``?ref=``/``?init=`` by :func:`sync_url`. Numbers all come
from ``nlhf_core``; this module only moves values between the URL, the session and the
core, and caches the heavy calls.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from nlhf_core.algorithms import run_algorithm
from nlhf_core.algorithms.field import simplex_grid, update_field
from nlhf_core.baselines.comparison import compare_solutions, rlhf_solution
from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.errors import NLHFError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.io import game_from_link, game_to_link
from nlhf_core.games.policies import policy_from_text, policy_to_text
from nlhf_core.games.presets import get_preset, list_presets, preset_names

from .links import remember_requested

DEFAULT_PRESET = preset_names()[0]
#: Recorded steps per run: the animation's frames (fewer frames, a lighter page).
FRAMES = 120


# ---------------------------------------------------------------------- the current game
def init_state() -> None:
    """Set up the session on its first run, then follow links the user opens (``absorb_url``)."""
    ss = st.session_state
    if "game_link" not in ss:
        ss.game_link = game_to_link(get_preset(DEFAULT_PRESET))
        ss.preset = DEFAULT_PRESET
        ss.custom = False
        ss.editor_version = 0
        ss.notices = []
        ss.ref_text, ss.init_text = "uniform", "reference"
        ss.synced = {}
        ss.written = {}
        remember_requested()
    absorb_url()


#: URL parameters the app writes itself (the others are bound to widgets).
SYNCED_KEYS = ("preset", "game", "ref", "init")


def absorb_url() -> None:
    """Apply game/policy parameters that differ from what the app last wrote: the user opened a link.

    :func:`sync_url` records what it writes, so our own updates are not mistaken for navigation; a
    link with a ``preset`` but no ``game`` opens that preset.
    """
    ss = st.session_state
    params = st.query_params
    # Absent parameters and values the app wrote itself this session are not navigation (page links
    # drop parameters, and a rerun may still carry the previous value).
    changed = {
        k
        for k in SYNCED_KEYS
        if k in params and params[k] != ss.synced.get(k) and params[k] not in ss.written.get(k, ())
    }
    if not changed:
        return
    if changed & {"preset", "game"}:
        preset = params.get("preset", DEFAULT_PRESET)
        if preset not in preset_names():
            ss.notices.append(f"There is no preset {preset!r}; showing {DEFAULT_PRESET!r} instead.")
            preset = DEFAULT_PRESET
        ss.preset = preset
        set_game(get_preset(preset), custom=False)
        if "game" in params:
            try:
                set_game(game_from_link(params["game"]), custom=True)
            except NLHFError as err:
                ss.notices.append(f"{err} Showing the preset {preset!r} instead.")
    game = current_game()
    if "ref" in changed or changed & {"preset", "game"}:
        ss.ref_text = _policy_param(params.get("ref"), game, "reference policy", "uniform")
    if "init" in changed or changed & {"preset", "game"}:
        ss.init_text = _policy_param(params.get("init"), game, "initial policy", "reference")


def _policy_param(text: str | None, game: PreferenceGame, what: str, default: str) -> str:
    if not text or text == default:
        return default
    try:
        return policy_to_text(policy_from_text(text, game.labels, what))
    except NLHFError as err:
        st.session_state.notices.append(f"{err} Using the default {what} instead.")
        return default


def current_game() -> PreferenceGame:
    """The game every page works on."""
    return _game_from_link(st.session_state.game_link)


@st.cache_data(show_spinner=False, max_entries=64)
def _game_from_link(link: str) -> PreferenceGame:
    return game_from_link(link)


def set_game(game: PreferenceGame, *, custom: bool) -> None:
    """Make ``game`` current; reset the policies if the responses changed."""
    ss = st.session_state
    old = current_game()
    ss.game_link = game_to_link(game)
    ss.custom = custom
    ss.editor_version += 1
    if old.labels != game.labels:
        ss.ref_text, ss.init_text = "uniform", "reference"


def load_preset(name: str) -> None:
    """Replace the current game by a preset (the sidebar's picker calls this)."""
    set_game(get_preset(name), custom=False)
    st.session_state.notices = []


def policy(kind: str) -> str:
    """The reference (``"uniform"`` or comma-separated) or initial policy (``"reference"`` or comma-separated)."""
    return st.session_state.ref_text if kind == "ref" else st.session_state.init_text


def sync_url() -> None:
    """Mirror the game and the policies into the URL so a link reproduces the view."""
    ss = st.session_state
    params = st.query_params
    if ss.preset != DEFAULT_PRESET:
        params["preset"] = ss.preset
    elif "preset" in params:
        del params["preset"]
    if ss.custom:
        params["game"] = ss.game_link
    elif "game" in params:
        del params["game"]
    for key, text, default in (("ref", ss.ref_text, "uniform"), ("init", ss.init_text, "reference")):
        if text != default:
            params[key] = text
        elif key in params:
            del params[key]
    ss.synced = {k: params.get(k) for k in SYNCED_KEYS}
    for key, value in ss.synced.items():
        if value is not None:
            ss.written.setdefault(key, set()).add(value)


def synced_pairs() -> list[tuple[str, str]]:
    """The game and policy parameters of the shared link (the same rules as :func:`sync_url`)."""
    ss = st.session_state
    pairs = []
    if ss.preset != DEFAULT_PRESET:
        pairs.append(("preset", ss.preset))
    if ss.custom:
        pairs.append(("game", ss.game_link))
    for key, text, default in (("ref", ss.ref_text, "uniform"), ("init", ss.init_text, "reference")):
        if text != default:
            pairs.append((key, text))
    return pairs


# ---------------------------------------------------------------------- cached core calls
@st.cache_data(show_spinner=False, max_entries=256)
def nash(link: str):
    return nash_equilibrium(_game_from_link(link))


@st.cache_data(show_spinner=False, max_entries=256)
def regularized(link: str, tau: float, ref: str):
    game = _game_from_link(link)
    return regularized_nash(game, tau, _policy_arg(ref, game))


@st.cache_data(show_spinner="Running the solver…", max_entries=128)
def run(link: str, name: str, params_json: str, iterations: int, ref: str, init: str, samples: int | None, seed: int):
    game = _game_from_link(link)
    params = json.loads(params_json)
    return run_algorithm(
        name,
        game,
        iterations=iterations,
        reference=_policy_arg(ref, game),
        init=_policy_arg(ref if init == "reference" else init, game),
        record_every=max(1, iterations // FRAMES),
        samples=samples,
        seed=seed,
        **params,
    )


@st.cache_data(show_spinner=False, max_entries=128)
def field(link: str, name: str, params_json: str, ref: str, context: int):
    game = _game_from_link(link)
    points = simplex_grid(9)
    return points, update_field(
        name, game, points, reference=_policy_arg(ref, game), context=context, **json.loads(params_json)
    )


@st.cache_data(show_spinner=False, max_entries=128)
def rlhf(link: str, tau: float, ref: str, sampling: str):
    game = _game_from_link(link)
    return rlhf_solution(game, tau, _policy_arg(ref, game), sampling)


@st.cache_data(show_spinner=False, max_entries=64)
def comparison(link: str, tau: float, ref: str, sampling: str):
    game = _game_from_link(link)
    return compare_solutions(game, tau, reference=_policy_arg(ref, game), sampling=sampling, solvers=[])


def _policy_arg(text: str, game: PreferenceGame) -> Any:
    return "uniform" if text in ("uniform", "reference") else policy_from_text(text, game.labels)


@st.cache_data(show_spinner="Training the policy…", max_entries=32)
def pg_run(link: str, name: str, params_json: str, ref: str, init: str):
    """A parametric (policy-gradient) run; torch is imported only when one is asked for."""
    from nlhf_core.policy_gradient import train_policy_gradient

    game = _game_from_link(link)
    steps = json.loads(params_json)["steps"]
    return train_policy_gradient(
        game,
        name,
        reference=_policy_arg(ref, game),
        init=_policy_arg(ref if init == "reference" else init, game),
        record_every=max(1, steps // FRAMES),
        **json.loads(params_json),
    )


@st.cache_data(show_spinner=False)
def _preset_stories() -> frozenset[str]:
    return frozenset(p.story for p in list_presets())


def is_preset_story(story: str) -> bool:
    """Presets' stories are ours (their Markdown is rendered); any other story is shown literally."""
    return story in _preset_stories()
