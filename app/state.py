"""The app's shared state: the current game, reference and initial policy; links only for sharing.

The game itself lives in ``st.session_state`` (``game``, with its :func:`fingerprint`), so a rerun
never decodes anything: a valid game of any size keeps working on every page. The URL mirrors it
for sharing — ``?preset=``, ``?game=`` (a compressed link, only for a custom game small enough for
one; a larger one is shared as a file), ``?ref=``/``?init=`` — and is read only when the session
opens a link (its first run, browser Back/Forward, a Learn-tour link). A link that cannot be read
leaves the last good game in use, with a notice. Widgets bound to the URL are in :mod:`app.links`.
Numbers all come from ``nlhf_core``; this module moves values between the URL, the session and the
core, and caches the heavy calls (keyed by the game's fingerprint, never by its link).
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from typing import Any

import numpy as np
import streamlit as st

from nlhf_core.algorithms import run_algorithm
from nlhf_core.algorithms.field import simplex_grid, update_field
from nlhf_core.baselines.comparison import compare_solutions, rlhf_solution
from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.errors import NLHFError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.links import game_from_link, game_to_link
from nlhf_core.games.policies import policy_from_text, policy_to_text
from nlhf_core.games.presets import get_preset, list_presets, preset_names

from .actions import BOOKKEEPING
from .links import remember_requested

DEFAULT_PRESET = preset_names()[0]
#: Recorded steps per run: the animation's frames (fewer frames, a lighter page).
FRAMES = 120
#: Longest game link the app writes: browsers and servers refuse URLs of ~126,000 characters (HTTP 400).
LINK_LIMIT_CHARS = 100_000
#: Games with more responses never fit (a link grows with n²), so their link is not even computed.
LINK_MAX_RESPONSES = 200
#: URL parameters the app writes itself (the others are bound to widgets).
SYNCED_KEYS = ("preset", "game", "ref", "init")


# ---------------------------------------------------------------------- fingerprints (cache keys)
#: Fingerprints of live games by ``id`` (an entry leaves when its game is collected, before its id is reused).
_FINGERPRINTS: dict[int, str] = {}
_FINGERPRINTS_LOCK = threading.Lock()


def fingerprint(game: PreferenceGame) -> str:
    """A cheap, stable key of everything a computation can read from ``game``.

    BLAKE2 of the matrices' bytes, the weights, the labels, the contexts, the name and the story;
    remembered per game object while it lives, so a page's many cached calls hash a large game once.
    """
    with _FINGERPRINTS_LOCK:
        key = _FINGERPRINTS.get(id(game))
    if key is not None:
        return key
    digest = hashlib.blake2b(digest_size=16)
    for array in (game.matrices, game.weights):
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    digest.update(json.dumps([game.labels, game.contexts, game.name, game.story]).encode())
    key = digest.hexdigest()
    with _FINGERPRINTS_LOCK:
        _FINGERPRINTS[id(game)] = key
    weakref.finalize(game, _forget, id(game))
    return key


def _forget(game_id: int) -> None:
    with _FINGERPRINTS_LOCK:
        _FINGERPRINTS.pop(game_id, None)


def cached(**kwargs: Any):
    """``st.cache_data`` whose key for a :class:`PreferenceGame` argument is its :func:`fingerprint`."""
    return st.cache_data(hash_funcs={PreferenceGame: fingerprint}, **kwargs)


# ---------------------------------------------------------------------- the current game
def init_state() -> None:
    """Set up the session on its first run; follow the URL only when the session opens a link."""
    ss = st.session_state
    first = "game" not in ss
    if first:
        ss.preset = DEFAULT_PRESET
        ss.editor_version = 0
        ss.policy_version = 0
        ss.notices = []
        ss.ref_text, ss.init_text = "uniform", "reference"
        ss.game = None
        set_game(get_preset(DEFAULT_PRESET), custom=False, origin=f"preset {DEFAULT_PRESET}")
        remember_requested()
    if first or opened_by_history():
        absorb_url()
    if first:
        ss.editor_version = ss.policy_version = 0  # the editors' keys start at version 0


def opened_by_history() -> bool:
    """Whether this run follows the URL's game and policies: browser Back/Forward (a session's first
    run, which opens its link, is handled by :func:`init_state`; the Learn tour sets the session itself).

    Any other rerun keeps the session's game, whatever the URL says: the app wrote the URL, and a
    browser may still send the previous one while the new one is on its way.
    """
    ctx = _script_run_ctx()
    return ctx is not None and bool(getattr(ctx, "is_history_navigation", False))


def _script_run_ctx():
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    return get_script_run_ctx(suppress_warning=True)


def absorb_url() -> None:
    """Make the URL's preset, game and policies current; what cannot be read keeps the last good game."""
    ss = st.session_state
    params = st.query_params
    preset = params.get("preset", DEFAULT_PRESET)
    if preset not in preset_names():
        ss.notices.append(f"There is no preset {preset!r}; showing {DEFAULT_PRESET!r} instead.")
        preset = DEFAULT_PRESET
    link = params.get("game")
    game, origin, custom = get_preset(preset), f"preset {preset}", False
    if link is not None:
        try:
            game, origin, custom = game_from_link(link), "the link", True
        except (NLHFError, MemoryError) as err:
            ss.notices.append(f"{err} Showing the preset {preset!r} instead.")
    if fingerprint(game) != ss.game_fp or custom != ss.custom:
        ss.preset = preset
        set_game(game, custom=custom, origin=origin)
    ss.ref_text = _policy_param(params.get("ref"), game, "reference policy", "uniform")
    ss.init_text = _policy_param(params.get("init"), game, "initial policy", "reference")
    ss.policy_version += 1


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
    return st.session_state.game


def set_game(game: PreferenceGame, *, custom: bool, origin: str | None = None) -> None:
    """Make ``game`` current; reset the policies if the responses changed.

    Args:
        game: the new game (already validated by the core).
        custom: whether it differs from the preset of the picker (an edit, an upload, a link).
        origin: where a newly loaded game comes from ("preset NAME", "uploaded file NAME", "the link");
            ``None`` for an edit of the current game, which is then marked as edited.
    """
    ss = st.session_state
    old = ss.get("game")
    ss.game = game
    ss.game_fp = fingerprint(game)
    ss.game_link = _link_of(game) if custom else None
    ss.custom = custom
    ss.editor_version += 1
    if origin is not None:
        ss.game_origin, ss.edited = origin, False
    else:
        ss.edited = True
    if old is not None and old.labels != game.labels:
        ss.ref_text, ss.init_text = "uniform", "reference"
        ss.policy_version += 1  # the policy editors start again (only then: a redrawn grid costs the browser)


def _link_of(game: PreferenceGame) -> str | None:
    """The game's link, or None when the game is too large for one (it is shared as a file)."""
    if game.n > LINK_MAX_RESPONSES:
        return None
    link = game_to_link(game)
    return link if len(link) <= LINK_LIMIT_CHARS else None


def too_large_for_a_link() -> bool:
    """Whether the current game is custom and too large to travel in a link."""
    ss = st.session_state
    return bool(ss.custom and ss.game_link is None)


def forget_session() -> None:
    """ "Start over": forget the whole session (a training job is stopped first), as if it had just opened."""
    ss = st.session_state
    job = ss.get("lm_job")
    if job is not None:
        job.stop()
    for key in list(ss.keys()):
        if key not in BOOKKEEPING:
            del ss[key]


def load_preset(name: str) -> None:
    """Replace the current game by a preset (the sidebar's picker calls this)."""
    set_game(get_preset(name), custom=False, origin=f"preset {name}")
    st.session_state.notices = []


def policy(kind: str) -> str:
    """The reference (``"uniform"`` or comma-separated) or initial policy (``"reference"`` or comma-separated)."""
    return st.session_state.ref_text if kind == "ref" else st.session_state.init_text


def synced_pairs() -> list[tuple[str, str]]:
    """The game and policy parameters of the view, as written to the URL and the shared link."""
    ss = st.session_state
    pairs = []
    if ss.preset != DEFAULT_PRESET:
        pairs.append(("preset", ss.preset))
    if ss.custom and ss.game_link is not None:
        pairs.append(("game", ss.game_link))
    for key, text, default in (("ref", ss.ref_text, "uniform"), ("init", ss.init_text, "reference")):
        if text != default:
            pairs.append((key, text))
    return pairs


def sync_url() -> None:
    """Mirror the game and the policies into the URL: one browser history entry per change of view
    (all new values in one update; a parameter the view no longer has is removed)."""
    wanted = dict(synced_pairs())
    params = st.query_params
    changed = {k: v for k, v in wanted.items() if params.get(k) != v}
    if changed:
        params.update(changed)
    for key in SYNCED_KEYS:
        if key not in wanted and key in params:
            del params[key]


# ---------------------------------------------------------------------- cached core calls
@cached(show_spinner=False, max_entries=256)
def nash(game: PreferenceGame):
    return nash_equilibrium(game)


@cached(show_spinner=False, max_entries=256)
def regularized(game: PreferenceGame, tau: float, ref: str):
    return regularized_nash(game, tau, policy_arg(ref, game))


@cached(show_spinner="Running the solver…", max_entries=128)
def run(
    game: PreferenceGame,
    name: str,
    params_json: str,
    iterations: int,
    ref: str,
    init: str,
    samples: int | None,
    seed: int,
):
    params = json.loads(params_json)
    return run_algorithm(
        name,
        game,
        iterations=iterations,
        reference=policy_arg(ref, game),
        init=policy_arg(ref if init == "reference" else init, game),
        record_every=max(1, iterations // FRAMES),
        samples=samples,
        seed=seed,
        **params,
    )


@cached(show_spinner=False, max_entries=128)
def field(game: PreferenceGame, name: str, params_json: str, ref: str, context: int):
    points = simplex_grid(9)
    return points, update_field(
        name, game, points, reference=policy_arg(ref, game), context=context, **json.loads(params_json)
    )


@cached(show_spinner=False, max_entries=128)
def rlhf(game: PreferenceGame, tau: float, ref: str, sampling: str):
    return rlhf_solution(game, tau, policy_arg(ref, game), sampling)


@cached(show_spinner=False, max_entries=64)
def comparison(game: PreferenceGame, tau: float, ref: str, sampling: str):
    return compare_solutions(game, tau, reference=policy_arg(ref, game), sampling=sampling, solvers=[])


def policy_arg(text: str, game: PreferenceGame) -> Any:
    """A policy text of the session as the core takes it ("uniform" or a probability vector)."""
    return "uniform" if text in ("uniform", "reference") else policy_from_text(text, game.labels)


@cached(show_spinner="Training the policy…", max_entries=32)
def pg_run(game: PreferenceGame, name: str, params_json: str, ref: str, init: str):
    """A parametric (policy-gradient) run; torch is imported only when one is asked for."""
    from nlhf_core.policy_gradient import train_policy_gradient

    steps = json.loads(params_json)["steps"]
    return train_policy_gradient(
        game,
        name,
        reference=policy_arg(ref, game),
        init=policy_arg(ref if init == "reference" else init, game),
        record_every=max(1, steps // FRAMES),
        **json.loads(params_json),
    )


@st.cache_data(show_spinner=False)
def _preset_stories() -> frozenset[str]:
    return frozenset(p.story for p in list_presets())


def is_preset_story(story: str) -> bool:
    """Presets' stories are ours (their Markdown is rendered); any other story is shown literally."""
    return story in _preset_stories()


# ---------------------------------------------------------------------- the paper's comparison (issue 16)
@cached(show_spinner="Fitting the models, deploying every method and tracing the β curve…", max_entries=32)
def paper_study(
    game: PreferenceGame,
    mu: tuple[float, ...],
    tau: float,
    rlhf_tau: float,
    pairs: int,
    noise: float,
    seeds: int,
    betas: tuple[float, ...],
):
    """The tabular study of the paper's comparison and Nash-MD-PG's β curve on the same settings.

    Returns ``(table, curve)``: :func:`nlhf_core.study.run_tabular_study` and
    :func:`nlhf_core.study.beta_curve` for β in 0, 0.05, ..., 1 and the table's betas.
    """
    import numpy as np

    from nlhf_core.study import beta_curve, run_tabular_study, tabular_settings

    settings = tabular_settings(
        game, list(mu), tau=tau, rlhf_tau=rlhf_tau, betas=betas, pairs=pairs, noise=noise, seeds=range(seeds)
    )
    grid = sorted({*np.linspace(0.0, 1.0, 21).round(6), *betas})
    return run_tabular_study(settings), beta_curve(settings, grid)
