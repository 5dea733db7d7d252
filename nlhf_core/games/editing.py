"""Editing a preference game the way the app's matrix editor does, with the core's validation.

Every function returns a new :class:`PreferenceGame` (games are immutable) or raises
:class:`~nlhf_core.errors.GameValidationError` with one sentence, so an editor can keep
the last valid game and show the sentence next to the user's (kept) edit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nlhf_core.errors import GameValidationError, PolicyError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.validation import MAX_RESPONSES, complement_probability, validate_labels


def apply_cell_edits(
    game: PreferenceGame,
    edits: Mapping[tuple[int, int], Any],
    context: int = 0,
) -> PreferenceGame:
    """Set ``P[i, j] = value`` for each edit and keep the game complementary.

    Editing ``P[i, j]`` also sets ``P[j, i] = 1 - P[i, j]`` (the user edits one side of a
    pair); a diagonal cell must stay 1/2. Values are checked like any game entry, so a
    blank, non-numeric or out-of-range value raises with the cell's name.

    Args:
        game: the game to edit (it is not changed).
        edits: ``{(i, j): value}``, the new ``P[i, j]`` per cell (row, column indices); a value may
            be a number or the text typed in the editor.
        context: index of the context whose matrix is edited (0 for a plain game).

    Returns:
        A new game with the edited matrix, exactly complementary on every edited pair.

    Raises:
        GameValidationError: a blank, non-numeric, non-finite or out-of-``[0, 1]`` value, or a
            diagonal cell set to anything but 1/2.
    """
    P = game.matrices[context].copy()
    labels = game.labels
    for (i, j), value in edits.items():
        number = _as_probability(value, labels[i], labels[j])
        if i == j:
            if number != 0.5:
                raise GameValidationError(
                    f"Cell ({labels[i]}, {labels[i]}) is {number:g} but a response ties with itself; "
                    f"the diagonal stays 0.5."
                )
            continue
        P[i, j] = number
        P[j, i] = complement_probability(number)
    matrices = game.matrices.copy()
    matrices[context] = P
    return _with_matrices(game, matrices)


def _as_probability(value: Any, row: str, col: str) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise GameValidationError(f"Cell ({row}, {col}) is blank; enter a probability between 0 and 1.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GameValidationError(
            f"Cell ({row}, {col}) is {value!r}, not a number; enter a probability between 0 and 1."
        ) from None
    if not np.isfinite(number):
        raise GameValidationError(f"Cell ({row}, {col}) is {number}; enter a probability between 0 and 1.")
    if not 0.0 <= number <= 1.0:
        raise GameValidationError(
            f"Cell ({row}, {col}) is {number:g}, outside [0, 1]; enter a probability between 0 and 1."
        )
    return number


def add_response(game: PreferenceGame, label: str) -> PreferenceGame:
    """A new response that ties (1/2) with every other one, in every context.

    Args:
        game: the game to extend.
        label: the new response's name (distinct from the others).

    Returns:
        A new game of ``n + 1`` responses; the new row and column are 1/2 in every context.

    Raises:
        GameValidationError: the game already has the maximum number of responses, or the label is
            blank, too long or taken.
    """
    if game.n + 1 > MAX_RESPONSES:
        raise GameValidationError(
            f"The game already has {game.n} responses, the limit; remove one before adding another."
        )
    labels = validate_labels([*game.labels, label])
    C, n = game.num_contexts, game.n
    matrices = np.full((C, n + 1, n + 1), 0.5)
    matrices[:, :n, :n] = game.matrices
    return _with_matrices(game, matrices, labels)


def remove_response(game: PreferenceGame, label: str) -> PreferenceGame:
    """The game without ``label`` (a game keeps at least one response).

    Args:
        game: the game to shrink.
        label: the response to drop.

    Returns:
        A new game of ``n - 1`` responses (that row and column removed in every context).

    Raises:
        GameValidationError: there is no such response, or it is the game's only one.
    """
    k = game.index(label)
    if game.n == 1:
        raise GameValidationError("A game needs at least one response; add another before removing this one.")
    keep = [i for i in range(game.n) if i != k]
    matrices = game.matrices[:, keep][:, :, keep]
    return _with_matrices(game, matrices, tuple(game.labels[i] for i in keep))


def rename_response(game: PreferenceGame, old: str, new: str) -> PreferenceGame:
    """The game with response ``old`` called ``new`` (labels stay distinct).

    Args:
        game: the game to edit.
        old: the response's current name.
        new: its new name.

    Returns:
        A new game with the same matrices and the label replaced.

    Raises:
        GameValidationError: there is no response ``old``, or ``new`` is blank, too long or taken.
    """
    k = game.index(old)
    labels = list(game.labels)
    labels[k] = new
    return _with_matrices(game, game.matrices, validate_labels(labels))


def _with_matrices(game: PreferenceGame, matrices: np.ndarray, labels: Sequence[str] | None = None) -> PreferenceGame:
    labels = game.labels if labels is None else tuple(labels)
    if game.has_contexts:
        return PreferenceGame.from_contexts(
            list(matrices), labels, game.contexts, game.weights, name=game.name, story=game.story
        )
    return PreferenceGame.from_matrix(matrices[0], labels, name=game.name, story=game.story)


def normalize_weights(weights: Sequence[Any], labels: Sequence[str], what: str = "policy") -> np.ndarray:
    """Turn non-negative weights (as typed in an editor) into a probability vector.

    Blank cells count as 0; the weights must be finite, non-negative and not all 0.

    Args:
        weights: one weight per label (numbers or typed text; None or blank counts as 0).
        labels: the response labels, in the order of ``weights`` (named in messages).
        what: how the vector is named in messages (``"policy"``, ``"reference"``, ...).

    Returns:
        The probability vector ``w / sum(w)``, shape ``(n,)``.

    Raises:
        PolicyError: a weight that is not a number, not finite or negative, or all weights 0.
    """
    values = []
    for label, w in zip(labels, weights, strict=True):
        if w is None or (isinstance(w, str) and not w.strip()):
            values.append(0.0)
            continue
        try:
            number = float(w)
        except (TypeError, ValueError):
            raise PolicyError(f"The {what} weight of {label!r} is {w!r}, not a number; enter a weight >= 0.") from None
        if not np.isfinite(number) or number < 0:
            raise PolicyError(f"The {what} weight of {label!r} is {number:g}; weights must be finite and >= 0.")
        values.append(number)
    p = np.array(values, dtype=float)
    if p.sum() <= 0:
        raise PolicyError(f"The {what} weights are all 0; give at least one response a positive weight.")
    return p / p.sum()
