"""Test helpers: random preference matrices and Hypothesis strategies."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


def random_matrix(n: int, seed: int, kind: str = "uniform") -> np.ndarray:
    """A random exactly complementary preference matrix."""
    rng = np.random.default_rng(seed)
    if kind == "tournament":
        upper = rng.integers(0, 2, size=(n, n)).astype(float)
    elif kind == "sharp":
        upper = rng.choice([0.0, 0.1, 0.5, 0.9, 1.0], size=(n, n))
    else:
        upper = rng.random((n, n))
    P = np.triu(upper, 1)
    P = P + np.tril(1.0 - P.T, -1)
    np.fill_diagonal(P, 0.5)
    return P


@st.composite
def preference_matrices(draw, min_n: int = 1, max_n: int = 8, kinds=("uniform", "tournament", "sharp")):
    """Hypothesis strategy: random complementary matrices of several kinds and sizes."""
    n = draw(st.integers(min_n, max_n))
    seed = draw(st.integers(0, 2**31 - 1))
    kind = draw(st.sampled_from(kinds))
    return random_matrix(n, seed, kind)


@st.composite
def simplex_points(draw, n: int, min_mass: float = 0.0):
    """Hypothesis strategy: a probability vector of length ``n``."""
    raw = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    raw = raw + min_mass + 1e-12
    return raw / raw.sum()


def one_sentence(message: str) -> bool:
    """A user-facing message is one sentence: a final period, no line break, no traceback."""
    return message.endswith(".") and "\n" not in message and "Traceback" not in message
