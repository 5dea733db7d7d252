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
from nlhf_core.games.validation import (
    MAX_CELLS,
    MAX_CONTEXTS,
    check_response_count,
    complement_probability,
    default_labels,
    format_number,
    row_count,
    validate_labels,
    validate_matrix,
    validate_weights,
)


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
        """Game from a full ``n × n`` matrix with ``P[i, j] = P(y_i ≻ y_j)``.

        Args:
            matrix: ``(n, n)`` preference matrix (nested lists or an array), P[i, j] = P(y_i ≻ y_j).
            labels: ``n`` response names (default ``y1..yn``).
            name: short title.
            story: one paragraph telling what the game shows.

        Returns:
            The validated plain game (entries stored exactly as given).

        Raises:
            GameValidationError: the matrix is not square, not finite, outside ``[0, 1]``, has a
                diagonal other than 1/2 or is not complementary, or the labels do not fit it.
        """
        n = row_count(matrix)
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

        Args:
            values: the ``n(n-1)/2`` upper entries (flat, row-major) or an ``(n, n)`` table.
            labels: ``n`` response names (default ``y1..yn``).
            name: short title.
            story: one paragraph telling what the game shows.

        Returns:
            The validated plain game, exactly complementary.

        Raises:
            GameValidationError: a flat list whose length is not a triangular number, a table that is
                not square, or an entry that is not a probability.
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
        """Bradley–Terry game ``P(y_i ≻ y_j) = sigmoid(s_i - s_j)`` from scores (Elo/rewards).

        Args:
            scores: one finite score ``s_i`` per response, shape ``(n,)`` (logit units: a difference
                of 1 gives ``sigmoid(1) ≈ 0.73``).
            labels: ``n`` response names (default ``y1..yn``).
            name: short title.
            story: one paragraph telling what the game shows.

        Returns:
            The plain Bradley–Terry game, exactly complementary.

        Raises:
            GameValidationError: the scores are empty, not numbers or not finite, too many, or their
                count differs from the labels'.
        """
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
                f"is {format_number(s[k])}; give one finite score per response."
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

        Args:
            matrices: a list of ``C`` preference matrices, each ``(n, n)`` with P[i, j] = P(y_i ≻ y_j | x).
            labels: ``n`` response names (default ``y1..yn``).
            contexts: ``C`` context names (default ``x1..xC``).
            weights: ``C`` non-negative context weights ``rho(x)`` (default uniform).
            name: short title.
            story: one paragraph telling what the game shows.

        Returns:
            The validated contextual game (``matrices`` of shape ``(C, n, n)``).

        Raises:
            GameValidationError: no contexts or too many, too many cells, names that do not match the
                matrices, invalid weights, or an invalid matrix (named by its context).
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
        n = row_count(matrices[0])
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
        w = validate_weights(np.ones(C) if weights is None else weights, contexts_t)
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
        """The plain game of one context.

        Args:
            name: one of :attr:`contexts`.

        Returns:
            A plain game holding that context's ``(n, n)`` matrix, with the same labels, name and story.

        Raises:
            GameValidationError: there is no context ``name``.
        """
        if name not in self.contexts:
            raise GameValidationError(f"There is no context {name!r}; choose one of {', '.join(self.contexts)}.")
        k = self.contexts.index(name)
        return PreferenceGame(self.labels, self.matrices[k : k + 1].copy(), (), np.ones(1), self.name, self.story)

    def index(self, label: str) -> int:
        """Position of a response label.

        Args:
            label: a response name.

        Returns:
            Its 0-based index in :attr:`labels`.

        Raises:
            GameValidationError: there is no response ``label``.
        """
        try:
            return self.labels.index(label)
        except ValueError:
            raise GameValidationError(
                f"There is no response {label!r}; choose one of {', '.join(self.labels)}."
            ) from None

    def with_meta(self, *, name: str | None = None, story: str | None = None) -> PreferenceGame:
        """A copy with a new name and/or story.

        Args:
            name: the new title (None keeps the current one).
            story: the new story (None keeps the current one).

        Returns:
            The same game (labels, matrices, contexts, weights) with the new metadata.
        """
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
