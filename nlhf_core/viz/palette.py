"""The one palette: a colour and a marker per role, the same in every figure, page and report.

A *role* is a policy or method the explorer names: the exact Nash equilibrium, the regularized Nash
equilibrium π*_τ (Munos et al. 2024, Section 3), the reference μ (the SFT model), RLHF and its tabular
relatives (DPO, IPO, best-of-n), the policy being trained, the two learned models (preference and reward)
and every registered tabular solver. A language-model or policy-gradient method shares the role of the
tabular algorithm it samples (``nash-md-pg`` is Nash-MD's, ``self-play`` is self-play MWU's, ``sft`` is the
reference), so a method keeps one colour from the Playground to the LM report.

Every colour has CIELAB lightness L* between 45 and 67, so it keeps a contrast ratio of at least 2 against
both Streamlit backgrounds (white and ``#0e1117``), and every two roles are at least ΔE*ab = 25 apart
(``tests/viz/test_palette.py`` computes both). Solver colours follow the registry's display order
(:data:`nlhf_core.algorithms.registry.DISPLAY_ORDER`); a solver registered later reuses the colours from
the start of :data:`SOLVER_COLOURS`, and the test fails until the list is extended.

Names reach the figures as free text ("Nash-MD-PG (sampled)", "regularized Nash (τ = 0.1)",
"nlhf exploitability"): :func:`role_of` finds the role whose name or alias is the longest leading run of
the name's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

from nlhf_core.algorithms import list_solvers


@dataclass(frozen=True)
class Role:
    """A named policy or method and how every figure draws it.

    Attributes:
        key: Stable identifier (a solver's registry name for solver roles).
        colour: Hex colour of its lines, bars and markers.
        marker: Plotly marker symbol of its fixed points.
        aliases: Names (lower case, words separated by spaces) that refer to it.
    """

    key: str
    colour: str
    marker: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class SeriesStyle:
    """How one named series is drawn: its role colour, plus a variant when a figure repeats a role.

    Attributes:
        colour: Hex colour.
        marker: Plotly marker symbol.
        dash: Line dash for line traces (``"solid"`` for the first series of a role).
        pattern: Bar fill pattern (``""`` for the first series of a role).
    """

    colour: str
    marker: str
    dash: str
    pattern: str


#: Roles every figure may show, besides the solvers.
FIXED_ROLES: tuple[Role, ...] = (
    Role("nash", "#1f77b4", "star", ("nash", "nash equilibrium", "exact nash")),
    Role("regularized-nash", "#2ca02c", "diamond", ("regularized nash", "nlhf")),
    Role("reference", "#8c8c8c", "square", ("reference", "reference μ", "μ", "mu", "sft", "sft model")),
    Role("rlhf", "#d62728", "x", ("rlhf", "rlhf pg")),
    Role("policy", "#ff7f0e", "circle", ("policy", "current policy", "recent path", "trajectory", "average iterate")),
    Role("dpo", "#e377c2", "triangle-up", ("dpo",)),
    Role("ipo", "#9467bd", "triangle-down", ("ipo",)),
    Role("best-of-n", "#8c564b", "pentagon", ("best of n",)),
    Role("preference-model", "#a5a51b", "hexagon", ("preference model",)),
    Role("reward-model", "#1ba3b3", "cross", ("reward model",)),
)

#: One colour per registered solver, in the registry's display order.
SOLVER_COLOURS: tuple[str, ...] = (
    "#ee3377",  # nash-md
    "#bb33aa",  # nash-ema
    "#2288ff",  # omd
    "#00aa88",  # mwu
    "#dd7744",  # nash-mp
    "#996611",  # egpo
    "#447744",  # mmd
    "#ee7777",  # omwu
    "#999955",  # fictitious-play
    "#aa6688",  # replicator
    "#557700",  # best-response
)

#: Names of language-model and policy-gradient methods that share a tabular solver's role.
SOLVER_ALIASES: dict[str, tuple[str, ...]] = {
    "nash-md": ("nash md pg",),
    "nash-ema": ("nash ema pg",),
    "mwu": ("self play", "self play pg"),
    "best-response": ("best response",),
}

#: Colours of series that are not policies (metric curves, sampling schemes), in order of appearance.
SERIES_COLOURS: tuple[str, ...] = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2")

#: The update field on the simplex: a mid grey that reads on light and dark backgrounds.
FIELD_COLOUR = "rgba(119,119,119,0.9)"

#: Diverging colour scale of win rates and preferences (ColorBrewer RdBu): red where the row loses
#: (0), near-white at a tie (1/2), blue where the row wins (1). Given as explicit stops so Plotly.py,
#: Plotly.js and the SVG writer draw the same colours.
WIN_RATE_COLOURSCALE: tuple[tuple[float, str], ...] = (
    (0.0, "#b2182b"),
    (1 / 6, "#ef8a62"),
    (2 / 6, "#fddbc7"),
    (0.5, "#f7f7f7"),
    (4 / 6, "#d1e5f0"),
    (5 / 6, "#67a9cf"),
    (1.0, "#2166ac"),
)

_DASHES = ("solid", "dash", "dot", "dashdot", "longdash")
_PATTERNS = ("", "/", ".", "x", "\\")


def normalize(name: str) -> str:
    """Lower-case words of ``name`` separated by single spaces (``-``, ``_`` and punctuation split words).

    ``best-of-4`` becomes ``best of n``: every best-of-n policy shares one role.
    """
    words = re.findall(r"[^\W_]+|[*]", str(name).lower())
    return re.sub(r"\bbest of \d+\b", "best of n", " ".join(words))


@cache
def solver_roles() -> tuple[Role, ...]:
    """One role per registered solver (registry display order), aliased by its name, title and methods."""
    roles = []
    for k, spec in enumerate(list_solvers()):
        aliases = (normalize(spec.name), normalize(spec.title), *SOLVER_ALIASES.get(spec.name, ()))
        roles.append(Role(spec.name, SOLVER_COLOURS[k % len(SOLVER_COLOURS)], "circle", aliases))
    return tuple(roles)


def all_roles() -> tuple[Role, ...]:
    """The fixed roles, then one per registered solver."""
    return FIXED_ROLES + solver_roles()


@cache
def _alias_table() -> dict[str, Role]:
    return {alias: role for role in all_roles() for alias in role.aliases}


@cache
def role_of(name: str) -> Role | None:
    """The role a display name refers to, or ``None``.

    Args:
        name: A legend or label text, e.g. ``"Nash"``, ``"nash-md-pg(beta=0.125)"``,
            ``"NLHF (regularized Nash of the fitted preferences)"``.

    Returns:
        The role whose name or alias is the longest leading run of the name's words, or ``None``.
    """
    words = normalize(name).split()
    table = _alias_table()
    for end in range(len(words), 0, -1):
        role = table.get(" ".join(words[:end]))
        if role is not None:
            return role
    return None


def role(key: str) -> Role:
    """The role with this key (``"nash"``, ``"reference"``, a solver's registry name…).

    Args:
        key: The role's key.

    Returns:
        The :class:`Role`.

    Raises:
        KeyError: No role has this key.
    """
    for candidate in all_roles():
        if candidate.key == key:
            return candidate
    raise KeyError(key)


def colour_of(name: str, fallback: int = 0) -> str:
    """The colour of ``name``'s role, or the ``fallback``-th series colour for a name without one.

    Args:
        name: A legend or label text (see :func:`role_of`).
        fallback: Index into :data:`SERIES_COLOURS` (taken modulo its length) for a name without a role.

    Returns:
        A CSS colour (``"#rrggbb"``).
    """
    found = role_of(name)
    return found.colour if found else SERIES_COLOURS[fallback % len(SERIES_COLOURS)]


def marker_of(name: str) -> str:
    """The marker symbol of ``name``'s role (``"circle"`` for a name without one).

    Args:
        name: A legend or label text (see :func:`role_of`).

    Returns:
        A Plotly marker symbol name.
    """
    found = role_of(name)
    return found.marker if found else "circle"


def series_styles(names: Sequence[str]) -> list[SeriesStyle]:
    """Styles of the series of one figure: role colours, and a dash/pattern variant for a repeated role.

    Args:
        names: The figure's series names, in drawing order.

    Returns:
        One style per name. Names without a role take the series colours in turn; the second,
        third… series of the same role keep its colour and differ by dash (lines) and pattern (bars).
    """
    seen: dict[str, int] = {}
    unnamed = 0
    styles = []
    for name in names:
        found = role_of(name)
        if found is None:
            colour, marker, key = SERIES_COLOURS[unnamed % len(SERIES_COLOURS)], "circle", f"series-{unnamed}"
            unnamed += 1
        else:
            colour, marker, key = found.colour, found.marker, found.key
        variant = seen.get(key, 0)
        seen[key] = variant + 1
        styles.append(SeriesStyle(colour, marker, _DASHES[variant % len(_DASHES)], _PATTERNS[variant % len(_PATTERNS)]))
    return styles


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` as three integers 0–255."""
    text = colour.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def win_rate_colour(value: float) -> str:
    """Hex colour of a win rate on :data:`WIN_RATE_COLOURSCALE` (linear between stops, clipped to [0, 1])."""
    t = min(1.0, max(0.0, float(value)))
    for (t0, c0), (t1, c1) in pairwise(WIN_RATE_COLOURSCALE):
        if t <= t1:
            k = (t - t0) / (t1 - t0)
            rgb = [a + (b - a) * k for a, b in zip(hex_to_rgb(c0), hex_to_rgb(c1), strict=True)]
            return "#" + "".join(f"{round(v):02x}" for v in rgb)
    return WIN_RATE_COLOURSCALE[-1][1]


def plotly_colourscale() -> list[list[float | str]]:
    """:data:`WIN_RATE_COLOURSCALE` in Plotly's ``[[stop, colour], ...]`` form."""
    return [[t, c] for t, c in WIN_RATE_COLOURSCALE]


#: Colour and marker of the named policies under their usual display names (kept for earlier callers).
_DISPLAY_NAMES = ("Nash", "Regularized Nash", "regularized Nash", "Reference", "reference", "RLHF", "DPO", "IPO")
POLICY_COLOURS: dict[str, str] = {name: colour_of(name) for name in _DISPLAY_NAMES}
MARKER_SYMBOLS: dict[str, str] = {name: marker_of(name) for name in _DISPLAY_NAMES}
