"""Validation of preference games: labels, matrices (``P + Pᵀ = 1``, a diagonal of 1/2), context weights and
the size limits, each problem reported as one sentence naming it and the fix (Munos et al. 2024, Section 3:
``P(y ≻ y')`` is a probability and ``P(y ≻ y') + P(y' ≻ y) = 1``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

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


def format_number(value: float) -> str:
    """Short human form of a number for messages (``0.3``, ``nan``, ``1.2e-12``)."""
    if math.isnan(value):
        return "NaN"
    return f"{value:.6g}"


def check_response_count(n: int) -> None:
    """Refuse more than :data:`MAX_RESPONSES` responses *before* any ``n × n`` work is done.

    Constructors that build the matrix themselves (Bradley–Terry scores, an upper triangle)
    call this first, so a short input that would expand to gigabytes is refused at once.

    Args:
        n: the number of responses the input would make.

    Raises:
        GameValidationError: ``n`` exceeds :data:`MAX_RESPONSES`.
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
        return format_number(value)
    for digits in range(6, 18):
        text = f"{value:.{digits}g}"
        if text != f"{other:.{digits}g}":
            return text
    return repr(float(value))


def default_labels(n: int, prefix: str = "y") -> list[str]:
    """Labels ``y1, ..., yn`` used when the caller gives none.

    Args:
        n: how many labels.
        prefix: their common prefix (``"x"`` for contexts).

    Returns:
        ``["{prefix}1", ..., "{prefix}{n}"]``.
    """
    return [f"{prefix}{i + 1}" for i in range(n)]


def validate_labels(labels: Sequence[Any], what: str = "response") -> tuple[str, ...]:
    """Return labels as a tuple of stripped strings, or raise with one sentence.

    Labels must be non-empty strings without line breaks, at most
    :data:`MAX_LABEL_LENGTH` characters, and distinct.

    Args:
        labels: the names as given (a sequence, not a single string).
        what: what they name in messages (``"response"`` or ``"context"``).

    Returns:
        The stripped labels.

    Raises:
        GameValidationError: not a sequence, a label that is not text, blank, multi-line, too long,
            or repeated.
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

    Args:
        matrix: ``(n, n)`` preference matrix, P[i, j] = P(y_i ≻ y_j) (nested lists or array).
        labels: the ``n`` response labels (cells are named by them).
        context: the context's name, prefixed to messages (None for a plain game).

    Returns:
        The matrix as a float array ``(n, n)``, entries unchanged.

    Raises:
        GameValidationError: the first failed check, naming the cell and the fix.
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
        cell = f"{where}cell ({labels[i]}, {labels[j]})"
        raise GameValidationError(_cap(f"{cell} is {format_number(P[i, j])}; enter a probability between 0 and 1."))
    bad = (P < 0.0) | (P > 1.0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise GameValidationError(
            _cap(
                f"{where}cell ({labels[i]}, {labels[j]}) is {format_number(P[i, j])}, outside [0, 1]; "
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
                f"{where}cells ({labels[i]}, {labels[j]}) = {format_number(P[i, j])} and "
                f"({labels[j]}, {labels[i]}) = {format_apart(P[j, i], 1.0 - P[i, j])} add up to "
                f"{format_apart(P[i, j] + P[j, i], 1.0)}, not 1; set ({labels[j]}, {labels[i]}) to "
                f"{format_apart(1.0 - P[i, j], P[j, i])} (every pair needs P(a≻b) + P(b≻a) = 1)."
            )
        )
    return P


def validate_weights(weights: Any, contexts: Sequence[str]) -> np.ndarray:
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
            f"The weight of context {contexts[k]!r} is {format_number(w[k])}; "
            "context weights must be finite and non-negative."
        )
    total = w.sum()
    if not total > 0:
        raise GameValidationError("The context weights add up to 0; give at least one context a positive weight.")
    return w / total


def complement_probability(value: Any) -> Any:
    """``1 - value`` for a number; anything else is passed on for validation to reject.

    The difference is rounded to 15 significant digits when that changes it by at most
    one rounding error, so that ``1 - 0.9`` is stored as ``0.1`` and not
    ``0.09999999999999998`` (both are within 2e-16 of complementary).

    Args:
        value: the probability ``P[i, j]`` as given (number or anything else).

    Returns:
        ``1 - value`` (tidied) for a real number; ``value`` itself otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return value
    exact = 1.0 - float(value)
    if not math.isfinite(exact):
        return exact
    tidy = float(f"{exact:.15g}")
    return tidy if abs(tidy - exact) <= 2.3e-16 else exact


def row_count(matrix: Any) -> int:
    try:
        return len(matrix)
    except TypeError:
        raise GameValidationError(
            f"The matrix must be a list of rows, not {type(matrix).__name__}; give one row per response."
        ) from None
