"""The default task: prompts with a few valid answers, judged by a contextual preference game.

Every prompt ``x`` is a context of the game (or ``task.prompt`` for a game without contexts);
answer ``i`` is the text ``"{hedge} {label_i}"`` with ``hedge = hedges[i % len(hedges)]``, so
answers take several tokens and share first tokens (``maybe short`` / ``maybe long``), which is
what makes the token-level mixture differ from the sequence-level one. A sampled response maps
to the category whose text it equals, or to *malformed*.

The *extended game* adds malformed as response ``n``: it loses to every valid answer
(``P(malformed ≻ y) = 0``) and ties with itself. Because every malformed sequence has the same
row of preferences, the sequence-level regularized Nash of the language model, aggregated over
categories, is exactly the regularized Nash of the extended game with the SFT model's category
distribution as reference (Munos et al. 2024, Eq. 2: ``pi*(y) ∝ mu(y) exp((P pi*)(y) / tau)`` is
constant over sequences of one category up to ``mu``). That is the target the trainer reports
KL against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlhf_core.errors import GameValidationError, ParameterError
from nlhf_core.games.game import PreferenceGame

MALFORMED = "malformed"


@dataclass(frozen=True)
class AnswerTask:
    """Prompts, answer texts and the true (extended) preferences over answer categories."""

    game: PreferenceGame
    prompts: tuple[str, ...]
    answers: tuple[str, ...]

    @classmethod
    def from_game(cls, game: PreferenceGame, prompt: str = "answer me", hedges: Sequence[str] = ("maybe",)):
        prompts = game.contexts if game.has_contexts else (prompt,)
        hedges = [h.strip() for h in hedges]
        if not hedges or any(not h or len(h.split()) != 1 for h in hedges):
            raise ParameterError("task.hedges must be single words; give e.g. ['maybe', 'surely'].")
        answers = tuple(f"{hedges[i % len(hedges)]} {' '.join(label.split())}" for i, label in enumerate(game.labels))
        if len(set(answers)) != len(answers):
            raise GameValidationError("Two answers render to the same text; give the game distinct labels.")
        if MALFORMED in game.labels:
            raise GameValidationError(f"The label {MALFORMED!r} is reserved for unparsable responses; rename it.")
        return cls(game, tuple(" ".join(p.split()) for p in prompts), answers)

    @property
    def n(self) -> int:
        """Number of valid answers (the malformed category has index ``n``)."""
        return self.game.n

    @property
    def weights(self) -> np.ndarray:
        return np.asarray(self.game.weights, dtype=float)

    @property
    def labels_ext(self) -> tuple[str, ...]:
        return (*self.game.labels, MALFORMED)

    def words(self) -> list[str]:
        """Every word of the prompts and answers (the vocabulary of the built-in tokenizer)."""
        return [w for text in (*self.prompts, *self.answers) for w in text.split()]

    def extended_matrices(self) -> np.ndarray:
        """``(C, n+1, n+1)``: the true matrices plus malformed, which loses to every answer and ties itself."""
        C, n = self.game.num_contexts, self.n
        P = np.full((C, n + 1, n + 1), 0.5)
        P[:, :n, :n] = self.game.matrices
        P[:, n, :n] = 0.0
        P[:, :n, n] = 1.0
        return P

    def extended_game(self) -> PreferenceGame:
        return PreferenceGame.from_contexts(
            list(self.extended_matrices()), self.labels_ext, self.prompts, self.weights, name="extended"
        )

    def parse(self, text: str) -> int:
        """Category of a response text: the index of the answer it equals, else ``n`` (malformed)."""
        key = " ".join(text.split())
        for i, answer in enumerate(self.answers):
            if key == answer:
                return i
        return self.n

    def context_of(self, prompt: str) -> int:
        key = " ".join(prompt.split())
        try:
            return self.prompts.index(key)
        except ValueError:
            raise GameValidationError(f"The prompt {prompt!r} is not one of the task's prompts.") from None

    def sft_distribution(self, spec: Any, skew: float) -> np.ndarray:
        """``(C, n)`` answer distribution of the SFT corpus.

        ``'skewed'``: in context ``x`` answer ``i`` has weight ``skew^((i - x) mod n)`` (each prompt
        favours a different answer); ``'uniform'``; or one positive weight per answer.
        """
        C, n = self.game.num_contexts, self.n
        w: np.ndarray
        if isinstance(spec, str):
            if spec == "uniform":
                w = np.ones((C, n))
            else:
                idx = (np.arange(n)[None, :] - np.arange(C)[:, None]) % n
                w = skew**idx
        else:
            if len(spec) != n:
                raise ParameterError(
                    f"sft.answer_weights has {len(spec)} weights but the game has {n} answers; give one per answer."
                )
            w = np.tile(np.asarray(spec, dtype=float), (C, 1))
        return w / w.sum(axis=1, keepdims=True)

    def win_rate(self, a: np.ndarray, b: np.ndarray) -> float:
        """Exact ``sum_x rho(x) a_x^T P_ext(x) b_x`` for ``(C, n+1)`` category distributions."""
        P = self.extended_matrices()
        return float(np.einsum("c,ci,cij,cj->", self.weights, a, P, b))
