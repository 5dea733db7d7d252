"""Sentences that teach: who beats whom (with "tie" at display precision), why a reward model errs,
the game's story, and text from the core shown as written (never as accidental Markdown).

Every number in these sentences is read from a ``nlhf_core`` result; nothing is computed here
beyond choosing which pair to name and how to round.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import streamlit as st

from nlhf_core.baselines.comparison import Comparison
from nlhf_core.games.game import PreferenceGame

from . import state
from .safe_text import literal

#: Table cells of metrics: 4 significant digits (5e-33, never 0.000000000000000000000000000000005).
SIGNIFICANT = st.column_config.NumberColumn(format="%.4g")
#: Percent shown with two decimals: two win rates that round alike are a tie on screen.
PERCENT_DECIMALS = 2
_GREEK = {"pi": "π", "mu": "μ", "tau": "τ", "beta": "β", "eta": "η"}
#: Characters that would turn core text into markup (emphasis, code, LaTeX, links, HTML, tables, headings);
#: the rest (parentheses, hyphens, dots) reads the same in Markdown and stays, so the text stays searchable.
_MARKUP = re.compile(r"([\\`*_{}\[\]<>#|$~])")


def core_text(text: str) -> str:
    """Text from the core (solver summaries, targets, citations) in Markdown, shown as written.

    ASCII math becomes Greek (``pi*_tau`` → ``π*_τ``) and every Markdown character is escaped, so an
    underscore or an asterisk never turns into italics.
    """
    pretty = re.sub(r"\b(pi|mu|tau|beta|eta)\b", lambda m: _GREEK[m.group(1)], str(text))
    pretty = re.sub(r"\b(pi|mu|tau|beta|eta)(?=[*_^])", lambda m: _GREEK[m.group(1)], pretty)
    pretty = re.sub(r"(?<=[*_^])(pi|mu|tau|beta|eta)\b", lambda m: _GREEK[m.group(1)], pretty)
    return _MARKUP.sub(r"\\\1", pretty)


def percent(p: float) -> str:
    """A probability as a percentage with :data:`PERCENT_DECIMALS` decimals."""
    return f"{p:.{PERCENT_DECIMALS}%}"


def is_tie(p: float) -> bool:
    """Whether P(a ≻ b) = ``p`` shows as 50% at display precision."""
    return percent(p) == percent(0.5)


def versus(first: str, second: str, p: float) -> str:
    """``first`` against ``second`` when P(first ≻ second) = ``p``: ties, beats, or loses, in words."""
    if is_tie(p):
        return f"{first} ties with {second} (each wins half of the time, to {PERCENT_DECIMALS} decimals)"
    if p > 0.5:
        return f"{first} beats {second} {percent(p)} of the time"
    return f"{first} loses to {second}, which wins {percent(1 - p)} of the time"


def nlhf_headline(cmp: Comparison, tau: float) -> str:
    """The page's verdict: NLHF's policy at the same τ against RLHF's, then the unregularized Nash."""
    w = cmp.win_rates
    reg, nash, rlhf = (cmp.names.index(n) for n in ("regularized Nash", "Nash", "RLHF"))
    same_tau = versus("NLHF's policy (the regularized Nash π\\*\\_τ)", "the RLHF policy", w[reg, rlhf])
    limit = versus("The unregularized Nash equilibrium (τ → 0)", "RLHF", w[nash, rlhf])
    return (
        f"With the same KL strength τ = {tau:g}, {same_tau}. {limit}; nothing beats it more than half of "
        f"the time (RLHF's best response beats RLHF {percent(0.5 + cmp.exploitability['RLHF'])} of the time)."
    )


def misfit_sentence(labels: Sequence[str], predicted: np.ndarray, actual: np.ndarray) -> str:
    """The one-line mechanism: the pair the Bradley–Terry reward gets wrong, next to the real preference.

    A pair whose winner the reward flips is named first (the largest such error); otherwise the pair
    with the largest error; a game the reward fits (every error below 0.5 percentage points) says so.
    """
    n = len(labels)
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j and predicted[i, j] > 0.5]
    flips = [(i, j) for i, j in pairs if actual[i, j] < 0.5]
    pool = flips or [(i, j) for i in range(n) for j in range(i + 1, n)]
    if not pool:
        return "With one response there is nothing to compare."
    i, j = max(pool, key=lambda ij: abs(predicted[ij] - actual[ij]))
    a, b = literal(labels[i]), literal(labels[j])
    if flips:
        return (
            f"The reward ranks **{a}** above **{b}**: it predicts σ(r({a}) − r({b})) = {percent(predicted[i, j])}, "
            f"but people prefer **{b}** to **{a}** {percent(1 - actual[i, j])} of the time. One number per "
            "response cannot hold every pair, so RLHF optimizes a ranking the annotators do not have."
        )
    if abs(predicted[i, j] - actual[i, j]) < 0.005:
        return (
            "The reward fits every pair (this game is Bradley–Terry): RLHF and NLHF differ here only through "
            "how each turns preferences into a policy."
        )
    return (
        f"The reward gets every pair's winner right but not by how much: it predicts **{a}** ≻ **{b}** "
        f"{percent(predicted[i, j])} of the time where people say {percent(actual[i, j])}."
    )


def show_story(game: PreferenceGame) -> None:
    """The game's story: ours rendered as Markdown, anyone else's literally; hidden once the game is edited."""
    if not game.story:
        return
    if st.session_state.get("edited"):
        st.caption("You have edited this game, so its story (which described the original) is hidden.")
        return
    st.info(game.story if state.is_preset_story(game.story) else literal(game.story))
