"""Preference games: labelled responses and the matrix ``P[i, j] = P(y_i ≻ y_j)``.

A :class:`PreferenceGame` holds ``n`` labelled responses and one preference matrix per
context (prompt) ``x``, with context weights ``rho(x)`` (Munos et al. 2024, Section 3).
Every matrix is validated on construction: square, one label per row, finite entries in
``[0, 1]``, diagonal ``1/2`` and ``P + P.T = 1`` within :data:`COMPLEMENT_TOLERANCE`.
Each rejection is a :class:`~nlhf_core.errors.GameValidationError` whose message is one
sentence naming the offending cell and the fix.

Entries are stored exactly as given (so a file round-trips without loss); the
constructors that build matrices themselves (upper triangle, Bradley–Terry) produce
exactly complementary matrices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from nlhf_core.errors import GameValidationError

#: Largest number of responses a game may have (the exact solvers are benchmarked to 2000).
MAX_RESPONSES = 3000
#: Largest number of contexts (prompts) a game may have.
MAX_CONTEXTS = 1000
#: Largest total number of matrix cells, contexts included (memory guard: 8 bytes each).
MAX_CELLS = 20_000_000
#: Largest label length, in characters.
MAX_LABEL_LENGTH = 200
#: Tolerance of the checks ``P + P.T = 1`` and ``diag(P) = 1/2``.
COMPLEMENT_TOLERANCE = 1e-9


def _cap(text: str) -> str:
    """Capitalize the first letter of a message that may start with a lower-case word."""
    return text[:1].upper() + text[1:]


def _fmt(value: float) -> str:
    """Short human form of a number for messages (``0.3``, ``nan``, ``1.2e-12``)."""
    if math.isnan(value):
        return "NaN"
    return f"{value:.6g}"


def check_response_count(n: int) -> None:
    """Refuse more than :data:`MAX_RESPONSES` responses *before* any ``n × n`` work is done.

    Constructors that build the matrix themselves (Bradley–Terry scores, an upper triangle)
    call this first, so a short input that would expand to gigabytes is refused at once.
    """
    if n > MAX_RESPONSES:
        raise GameValidationError(
            f"The game has {n} responses, more than the limit of {MAX_RESPONSES}; merge or drop responses."
        )


def format_apart(value: float, other: float) -> str:
    """``value`` with the fewest significant digits (at least 6) that do not print it as ``other``.

    Messages that contrast two numbers (a sum and 1, a cell and the value it should have) must not
    show them alike: ``1.0000002`` and ``1``, not ``1`` and ``1``.

    Args:
        value: the number to show.
        other: the number it must not look like (unless they are equal).

    Returns:
        The formatted number.
    """
    if math.isnan(value) or value == other:
        return _fmt(value)
    for digits in range(6, 18):
        text = f"{value:.{digits}g}"
        if text != f"{other:.{digits}g}":
            return text
    return repr(float(value))


def default_labels(n: int, prefix: str = "y") -> list[str]:
    """Labels ``y1, ..., yn`` used when the caller gives none."""
    return [f"{prefix}{i + 1}" for i in range(n)]


def validate_labels(labels: Sequence[Any], what: str = "response") -> tuple[str, ...]:
    """Return labels as a tuple of stripped strings, or raise with one sentence.

    Labels must be non-empty strings without line breaks, at most
    :data:`MAX_LABEL_LENGTH` characters, and distinct.
    """
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise GameValidationError(
            f"The {what} labels must be a list of names, not {type(labels).__name__}; give one name per {what}."
        )
    cleaned: list[str] = []
    seen: dict[str, int] = {}
    for position, label in enumerate(labels, start=1):
        if not isinstance(label, str):
            raise GameValidationError(
                f"The {what} label at position {position} is {label!r}, not text; give every {what} a name."
            )
        text = label.strip()
        if not text:
            raise GameValidationError(f"The {what} label at position {position} is blank; give every {what} a name.")
        if any(ch in text for ch in "\r\n\t\x00") or not text.isprintable():
            raise GameValidationError(
                f"The {what} label at position {position} contains a line break or control "
                f"character; use a single line of printable text."
            )
        if len(text) > MAX_LABEL_LENGTH:
            raise GameValidationError(
                f"The {what} label at position {position} has {len(text)} characters, more "
                f"than the limit of {MAX_LABEL_LENGTH}; shorten it."
            )
        if text in seen:
            raise GameValidationError(
                f"The {what} label {text!r} appears twice (positions {seen[text]} and "
                f"{position}); give each {what} a distinct name."
            )
        seen[text] = position
        cleaned.append(text)
    return tuple(cleaned)


def _as_float_rows(matrix: Any, labels: Sequence[str] | None, where: str) -> np.ndarray:
    """Convert a nested list / array to a square float array, naming the first bad cell."""
    if isinstance(matrix, (str, bytes)) or not isinstance(matrix, Sequence | np.ndarray):
        raise GameValidationError(
            f"{where}the matrix must be a list of rows, not {type(matrix).__name__}; give one row per response."
        )
    try:  # fast path: a well-formed numeric table
        arr = np.asarray(matrix)
    except ValueError:  # ragged rows
        arr = None
    if arr is not None and arr.ndim == 2 and arr.dtype.kind in "iuf":
        rows, cols = arr.shape
        if rows != cols:
            raise GameValidationError(
                f"{where}the matrix is {rows}×{cols} but must be square, with one row and one column per response."
            )
        return arr.astype(float, copy=True)
    if arr is not None and arr.ndim not in (1, 2) and arr.dtype != object:
        raise GameValidationError(
            f"{where}the matrix has {arr.ndim} dimensions but must be a square table; give one row per response."
        )
    # slow path: find and name the first malformed row or cell
    rows_list = list(matrix)
    n = len(rows_list)
    lengths = []
    for i, row in enumerate(rows_list):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence | np.ndarray):
            raise GameValidationError(
                f"{where}row {i + 1} of the matrix is {type(row).__name__}, not a list of "
                f"numbers; give one row per response."
            )
        lengths.append(len(row))
    if n and len(set(lengths)) == 1 and lengths[0] != n:
        raise GameValidationError(
            f"{where}the matrix is {n}×{lengths[0]} but must be square, with one row and one column per response."
        )
    for i, length in enumerate(lengths):
        if length != n:
            raise GameValidationError(
                f"{where}the matrix has {n} rows but row {i + 1} has {length} entries; a "
                f"preference matrix is square, with one row and one column per response."
            )
    out = np.empty((n, n), dtype=float)
    for i, row in enumerate(rows_list):
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise GameValidationError(
                    f"{where}cell {_cell_name(labels, i, j, n)} is {value!r}, not a number; "
                    f"enter a probability between 0 and 1."
                )
            out[i, j] = float(value)
    return out


def _cell_name(labels: Sequence[str] | None, i: int, j: int, n: int) -> str:
    if labels is not None and len(labels) == n:
        return f"({labels[i]}, {labels[j]})"
    return f"[{i + 1}, {j + 1}]"


def validate_matrix(
    matrix: Any,
    labels: Sequence[str],
    *,
    context: str | None = None,
) -> np.ndarray:
    """Check one preference matrix against its labels; return it as a float array.

    Checks, in order: square, one label per row, size limit, finite entries, entries
    in ``[0, 1]``, diagonal ``1/2``, ``P[i, j] + P[j, i] = 1``. The first failure raises
    :class:`GameValidationError` naming the cell (by labels) and the fix.
    """
    where = f"In context {context!r}, " if context is not None else ""
    try:
        P = _as_float_rows(matrix, labels, where)
    except GameValidationError as err:
        raise GameValidationError(_cap(str(err))) from None
    n = P.shape[0]
    if n == 0:
        raise GameValidationError("The game is empty; add at least one response.")
    if len(labels) != n:
        raise GameValidationError(
            _cap(f"{where}the game has {len(labels)} labels but a {n}×{n} matrix; give exactly one label per row.")
        )
    check_response_count(n)
    bad = ~np.isfinite(P)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise GameValidationError(
            _cap(f"{where}cell ({labels[i]}, {labels[j]}) is {_fmt(P[i, j])}; enter a probability between 0 and 1.")
        )
    bad = (P < 0.0) | (P > 1.0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise GameValidationError(
            _cap(
                f"{where}cell ({labels[i]}, {labels[j]}) is {_fmt(P[i, j])}, outside [0, 1]; "
                f"enter a probability between 0 and 1."
            )
        )
    diag = np.abs(np.diag(P) - 0.5) > COMPLEMENT_TOLERANCE
    if diag.any():
        i = int(np.flatnonzero(diag)[0])
        raise GameValidationError(
            _cap(
                f"{where}cell ({labels[i]}, {labels[i]}) is {format_apart(P[i, i], 0.5)} but a response "
                f"ties with itself; set every diagonal cell to 0.5."
            )
        )
    off = np.abs(P + P.T - 1.0) > COMPLEMENT_TOLERANCE
    if off.any():
        i, j = np.argwhere(np.triu(off, 1))[0]
        raise GameValidationError(
            _cap(
                f"{where}cells ({labels[i]}, {labels[j]}) = {_fmt(P[i, j])} and "
                f"({labels[j]}, {labels[i]}) = {format_apart(P[j, i], 1.0 - P[i, j])} add up to "
                f"{format_apart(P[i, j] + P[j, i], 1.0)}, not 1; set ({labels[j]}, {labels[i]}) to "
                f"{format_apart(1.0 - P[i, j], P[j, i])} (every pair needs P(a≻b) + P(b≻a) = 1)."
            )
        )
    return P


def _validate_weights(weights: Any, contexts: Sequence[str]) -> np.ndarray:
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        raise GameValidationError(
            "The context weights must be numbers; give one non-negative weight per context."
        ) from None
    if w.ndim != 1 or len(w) != len(contexts):
        raise GameValidationError(
            f"The game has {len(contexts)} contexts but {w.size} weights; give one non-negative weight per context."
        )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GameValidationError(
            f"The weight of context {contexts[k]!r} is {_fmt(w[k])}; context weights must be finite and non-negative."
        )
    total = w.sum()
    if not total > 0:
        raise GameValidationError("The context weights add up to 0; give at least one context a positive weight.")
    return w / total


@dataclass(frozen=True, eq=False)
class PreferenceGame:
    """A preference game over ``n`` labelled responses, optionally per context.

    Attributes:
        labels: response names ``y_1..y_n``.
        matrices: array of shape ``(C, n, n)``; ``matrices[x, i, j] = P(y_i ≻ y_j | x)``.
        contexts: context (prompt) names, one per matrix; ``()`` for a plain game.
        weights: context distribution ``rho(x)`` (sums to 1), shape ``(C,)``.
        name: short title (presets use their key).
        story: one paragraph telling what the game shows.

    Build games with the class methods (:meth:`from_matrix`, :meth:`from_upper_triangle`,
    :meth:`from_bradley_terry`, :meth:`from_contexts`) or :func:`nlhf_core.games.presets.open_game`.
    """

    labels: tuple[str, ...]
    matrices: np.ndarray
    contexts: tuple[str, ...] = ()
    weights: np.ndarray = field(default_factory=lambda: np.ones(1))
    name: str = ""
    story: str = ""

    def __post_init__(self) -> None:
        # Freeze the arrays so a game can be shared (app sessions, caches) without copies.
        self.matrices.setflags(write=False)
        self.weights.setflags(write=False)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def _plain(cls, labels: tuple[str, ...], P: np.ndarray, name: str, story: str) -> PreferenceGame:
        """A game with one (validated) matrix and no named contexts."""
        return cls(labels, P[None, :, :].copy(), (), np.ones(1), name, story)

    @classmethod
    def from_matrix(
        cls,
        matrix: Any,
        labels: Sequence[str] | None = None,
        *,
        name: str = "",
        story: str = "",
    ) -> PreferenceGame:
        """Game from a full ``n × n`` matrix with ``P[i, j] = P(y_i ≻ y_j)``."""
        n = _row_count(matrix)
        labels_t = validate_labels(default_labels(n) if labels is None else labels)
        P = validate_matrix(matrix, labels_t)
        return cls._plain(labels_t, P, name, story)

    @classmethod
    def from_upper_triangle(
        cls,
        values: Any,
        labels: Sequence[str] | None = None,
        *,
        name: str = "",
        story: str = "",
    ) -> PreferenceGame:
        """Game from ``P[i, j]`` for ``i < j``; the rest is ``1 - P.T`` and a diagonal of 1/2.

        ``values`` is either the flat list of the ``n(n-1)/2`` upper entries in row-major
        order (``P[0,1], P[0,2], ..., P[1,2], ...``) or an ``n × n`` table whose strict
        upper triangle is read (the other cells are ignored and may be blank/NaN).
        """
        arr = np.asarray(values, dtype=object)
        if arr.ndim == 1:
            m = len(arr)
            n = round((1 + math.sqrt(1 + 8 * m)) / 2)
            if n * (n - 1) // 2 != m:
                raise GameValidationError(
                    f"An upper triangle has n(n-1)/2 entries (1, 3, 6, 10, ...), but {m} were "
                    f"given; give one entry per pair of responses."
                )
            check_response_count(n)
            full = np.full((n, n), 0.5, dtype=object)
            iu = np.triu_indices(n, 1)
            full[iu] = arr
        elif arr.ndim == 2 and arr.shape[0] == arr.shape[1]:
            n = arr.shape[0]
            full = np.full((n, n), 0.5, dtype=object)
            iu = np.triu_indices(n, 1)
            full[iu] = arr[iu]
        else:
            raise GameValidationError(
                "The upper triangle must be a flat list of n(n-1)/2 numbers or a square table; "
                "give one entry per pair of responses."
            )
        labels_t = validate_labels(default_labels(n) if labels is None else labels)
        for i, j in zip(*iu, strict=True):
            full[j, i] = complement_probability(full[i, j])
        P = validate_matrix(full.tolist(), labels_t)
        return cls._plain(labels_t, P, name, story)

    @classmethod
    def from_bradley_terry(
        cls,
        scores: Sequence[float] | np.ndarray,
        labels: Sequence[str] | None = None,
        *,
        name: str = "",
        story: str = "",
    ) -> PreferenceGame:
        """Bradley–Terry game ``P(y_i ≻ y_j) = sigmoid(s_i - s_j)`` from scores (Elo/rewards)."""
        try:
            s = np.asarray(scores, dtype=float)
        except (TypeError, ValueError):
            raise GameValidationError(
                "Bradley–Terry scores must be numbers; give one finite score per response."
            ) from None
        if s.ndim != 1 or s.size == 0:
            raise GameValidationError("Bradley–Terry scores must be a non-empty list; give one score per response.")
        check_response_count(s.size)
        labels_t = validate_labels(default_labels(len(s)) if labels is None else labels)
        if not np.all(np.isfinite(s)):
            k = int(np.flatnonzero(~np.isfinite(s))[0])
            raise GameValidationError(
                f"The Bradley–Terry score of {labels_t[k] if k < len(labels_t) else k + 1!r} "
                f"is {_fmt(s[k])}; give one finite score per response."
            )
        if len(labels_t) != len(s):
            raise GameValidationError(
                f"There are {len(s)} Bradley–Terry scores but {len(labels_t)} labels; give exactly one label per score."
            )
        upper = expit(s[:, None] - s[None, :])
        P = np.triu(upper, 1)
        P = P + np.tril(1.0 - P.T, -1)
        np.fill_diagonal(P, 0.5)
        P = validate_matrix(P, labels_t)
        return cls._plain(labels_t, P, name, story)

    @classmethod
    def from_contexts(
        cls,
        matrices: Any,
        labels: Sequence[str] | None = None,
        contexts: Sequence[str] | None = None,
        weights: Any = None,
        *,
        name: str = "",
        story: str = "",
    ) -> PreferenceGame:
        """Contextual game: one ``n × n`` matrix per context ``x`` and weights ``rho(x)``.

        Weights default to uniform and are normalized to sum to 1.
        """
        if isinstance(matrices, (str, bytes)) or not isinstance(matrices, Sequence | np.ndarray):
            raise GameValidationError("Contextual matrices must be a list with one square matrix per context.")
        C = len(matrices)
        if C == 0:
            raise GameValidationError("The game has no contexts; add at least one context.")
        if C > MAX_CONTEXTS:
            raise GameValidationError(
                f"The game has {C} contexts, more than the limit of {MAX_CONTEXTS}; merge or drop contexts."
            )
        n = _row_count(matrices[0])
        if C * n * n > MAX_CELLS:
            raise GameValidationError(
                f"The game has {C} contexts of {n}×{n} cells, more than the limit of "
                f"{MAX_CELLS:,} cells; use fewer contexts or responses."
            )
        labels_t = validate_labels(default_labels(n) if labels is None else labels)
        contexts_t = validate_labels(default_labels(C, "x") if contexts is None else contexts, what="context")
        if len(contexts_t) != C:
            raise GameValidationError(
                f"The game has {C} context matrices but {len(contexts_t)} context names; give "
                f"exactly one name per context."
            )
        w = _validate_weights(np.ones(C) if weights is None else weights, contexts_t)
        stack = np.empty((C, len(labels_t), len(labels_t)))
        for k, M in enumerate(matrices):
            stack[k] = validate_matrix(M, labels_t, context=contexts_t[k])
        return cls(labels_t, stack, contexts_t, w, name, story)

    # ------------------------------------------------------------------ views
    @property
    def n(self) -> int:
        """Number of responses."""
        return len(self.labels)

    @property
    def num_contexts(self) -> int:
        """Number of contexts (1 for a plain game)."""
        return self.matrices.shape[0]

    @property
    def has_contexts(self) -> bool:
        """True when the game was built with named contexts."""
        return bool(self.contexts)

    @property
    def matrix(self) -> np.ndarray:
        """The ``n × n`` matrix of a plain game (raises for a contextual game)."""
        if self.num_contexts != 1:
            raise GameValidationError(
                f"This game has {self.num_contexts} contexts, so it has no single matrix; "
                f"use game.matrices[k] or game.context(name)."
            )
        return self.matrices[0]

    def context(self, name: str) -> PreferenceGame:
        """The plain game of one context."""
        if name not in self.contexts:
            raise GameValidationError(f"There is no context {name!r}; choose one of {', '.join(self.contexts)}.")
        k = self.contexts.index(name)
        return PreferenceGame(self.labels, self.matrices[k : k + 1].copy(), (), np.ones(1), self.name, self.story)

    def index(self, label: str) -> int:
        """Position of a response label."""
        try:
            return self.labels.index(label)
        except ValueError:
            raise GameValidationError(
                f"There is no response {label!r}; choose one of {', '.join(self.labels)}."
            ) from None

    def with_meta(self, *, name: str | None = None, story: str | None = None) -> PreferenceGame:
        """A copy with a new name and/or story."""
        return PreferenceGame(
            self.labels,
            self.matrices,
            self.contexts,
            self.weights,
            self.name if name is None else name,
            self.story if story is None else story,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PreferenceGame):
            return NotImplemented
        return (
            self.labels == other.labels
            and self.contexts == other.contexts
            and np.array_equal(self.matrices, other.matrices)
            and np.array_equal(self.weights, other.weights)
            and self.name == other.name
            and self.story == other.story
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        ctx = f", contexts={list(self.contexts)}" if self.contexts else ""
        title = f"{self.name!r}, " if self.name else ""
        return f"PreferenceGame({title}labels={list(self.labels)}{ctx})"


def complement_probability(value: Any) -> Any:
    """``1 - value`` for a number; anything else is passed on for validation to reject.

    The difference is rounded to 15 significant digits when that changes it by at most
    one rounding error, so that ``1 - 0.9`` is stored as ``0.1`` and not
    ``0.09999999999999998`` (both are within 2e-16 of complementary).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return value
    exact = 1.0 - float(value)
    if not math.isfinite(exact):
        return exact
    tidy = float(f"{exact:.15g}")
    return tidy if abs(tidy - exact) <= 2.3e-16 else exact


def _row_count(matrix: Any) -> int:
    try:
        return len(matrix)
    except TypeError:
        raise GameValidationError(
            f"The matrix must be a list of rows, not {type(matrix).__name__}; give one row per response."
        ) from None
