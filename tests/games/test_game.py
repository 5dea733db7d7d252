"""PreferenceGame: constructors, invariants and the one-sentence validation errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlhf_core.errors import GameValidationError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.validation import MAX_RESPONSES
from tests.helpers import one_sentence, preference_matrices

LABELS = ["rock", "paper", "scissors"]
RPS = [[0.5, 0.0, 1.0], [1.0, 0.5, 0.0], [0.0, 1.0, 0.5]]


def test_from_matrix_keeps_entries_exactly():
    g = PreferenceGame.from_matrix(RPS, LABELS)
    assert g.labels == tuple(LABELS)
    assert g.n == 3 and g.num_contexts == 1 and not g.has_contexts
    np.testing.assert_array_equal(g.matrix, np.array(RPS))


def test_default_labels():
    g = PreferenceGame.from_matrix(np.full((2, 2), 0.5))
    assert g.labels == ("y1", "y2")


def test_from_upper_triangle_flat_and_table_agree():
    flat = PreferenceGame.from_upper_triangle([0.0, 1.0, 0.0], LABELS)
    table = PreferenceGame.from_upper_triangle([[None, 0.0, 1.0], [None, None, 0.0], [None, None, None]], LABELS)
    np.testing.assert_array_equal(flat.matrix, np.array(RPS))
    np.testing.assert_array_equal(table.matrix, np.array(RPS))


def test_upper_triangle_complement_is_tidy():
    g = PreferenceGame.from_upper_triangle([0.9], ["a", "b"])
    assert g.matrix[1, 0] == 0.1  # not 0.09999999999999998
    assert abs(g.matrix[0, 1] + g.matrix[1, 0] - 1.0) <= 2.3e-16


def test_upper_triangle_wrong_length():
    with pytest.raises(GameValidationError, match=r"n\(n-1\)/2 entries .* but 4 were given") as err:
        PreferenceGame.from_upper_triangle([0.1, 0.2, 0.3, 0.4])
    assert one_sentence(str(err.value))


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=12))
def test_bradley_terry_matrix_is_sigmoid_of_score_differences(scores):
    g = PreferenceGame.from_bradley_terry(scores)
    s = np.array(scores)
    expected = 1.0 / (1.0 + np.exp(-(s[:, None] - s[None, :])))
    np.testing.assert_allclose(g.matrix, expected, atol=1e-15)
    np.testing.assert_allclose(g.matrix + g.matrix.T, 1.0, atol=1e-15)
    assert np.all(np.diag(g.matrix) == 0.5)


@given(preference_matrices())
def test_invariants_hold_for_every_valid_game(P):
    g = PreferenceGame.from_matrix(P)
    M = g.matrix
    assert np.all((M >= 0) & (M <= 1))
    np.testing.assert_allclose(M + M.T, 1.0, atol=1e-9)
    np.testing.assert_allclose(np.diag(M), 0.5, atol=1e-9)


def test_games_are_immutable():
    g = PreferenceGame.from_matrix(RPS, LABELS)
    with pytest.raises(ValueError):
        g.matrix[0, 1] = 0.3


def test_contexts_and_weights_are_normalized():
    g = PreferenceGame.from_contexts([RPS, np.full((3, 3), 0.5)], LABELS, ["x", "z"], [1, 3])
    assert g.has_contexts and g.num_contexts == 2
    np.testing.assert_allclose(g.weights, [0.25, 0.75])
    np.testing.assert_array_equal(g.context("x").matrix, np.array(RPS))
    with pytest.raises(GameValidationError, match=r"contextual|contexts"):
        _ = g.matrix


def test_equality_and_repr():
    a = PreferenceGame.from_matrix(RPS, LABELS, name="rps")
    b = PreferenceGame.from_matrix([row[:] for row in RPS], LABELS, name="rps")
    assert a == b and "rps" in repr(a)
    assert a != PreferenceGame.from_matrix(RPS, ["r", "p", "s"], name="rps")


# ---------------------------------------------------------------------- every invalid input
INVALID = [
    # (matrix, labels, regex on the message)
    ([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], None, r"is 2×3 but must be square"),
    ([[0.5, 0.5], [0.5]], None, r"has 2 rows but row 2 has 1 entries"),
    (RPS, ["rock", "paper"], r"has 2 labels but a 3×3 matrix"),
    (RPS, ["rock", "paper", "rock"], r"label 'rock' appears twice \(positions 1 and 3\)"),
    (RPS, ["rock", " ", "x"], r"label at position 2 is blank"),
    (RPS, ["rock", "pa\nper", "x"], r"line break or control character"),
    (RPS, ["rock", 5, "x"], r"label at position 2 is 5, not text"),
    ([[0.5, math.nan], [0.5, 0.5]], ["a", "b"], r"cell \(a, b\) is NaN; enter a probability"),
    ([[0.5, math.inf], [0.5, 0.5]], ["a", "b"], r"cell \(a, b\) is inf"),
    ([[0.5, 1.2], [-0.2, 0.5]], ["a", "b"], r"cell \(a, b\) is 1.2, outside \[0, 1\]"),
    ([[0.4, 0.5], [0.5, 0.5]], ["a", "b"], r"cell \(a, a\) is 0.4 but a response ties with itself"),
    (
        [[0.5, 0.3], [0.6, 0.5]],
        ["a", "b"],
        r"cells \(a, b\) = 0.3 and \(b, a\) = 0.6 add up to 0.9, not 1; set \(b, a\) to 0.7",
    ),
    ([[0.5, "=1/2"], [0.5, 0.5]], ["a", "b"], r"cell \(a, b\) is '=1/2', not a number"),
    ([], [], r"The game is empty; add at least one response"),
    ("0.5", None, r"must be a list of rows"),
]


@pytest.mark.parametrize(("matrix", "labels", "pattern"), INVALID)
def test_invalid_games_get_one_clear_sentence(matrix, labels, pattern):
    with pytest.raises(GameValidationError, match="(?i)" + pattern) as err:
        PreferenceGame.from_matrix(matrix, labels)
    assert one_sentence(str(err.value)), str(err.value)
    assert str(err.value)[0].isupper()


def test_size_limit_is_documented_and_enforced():
    n = MAX_RESPONSES + 1
    with pytest.raises(GameValidationError, match=rf"{n} responses, more than the limit of {MAX_RESPONSES}") as err:
        PreferenceGame.from_matrix(np.full((n, n), 0.5))
    assert one_sentence(str(err.value))


def test_complement_tolerance_is_1e_9():
    PreferenceGame.from_matrix([[0.5, 0.3], [0.7 + 5e-10, 0.5]])
    with pytest.raises(GameValidationError, match="not 1"):
        PreferenceGame.from_matrix([[0.5, 0.3], [0.7 + 5e-9, 0.5]])


def test_invalid_context_names_the_context():
    bad = [[0.5, 0.2], [0.2, 0.5]]
    with pytest.raises(GameValidationError, match=r"^In context 'night', cells \(a, b\)") as err:
        PreferenceGame.from_contexts([np.full((2, 2), 0.5), bad], ["a", "b"], ["day", "night"])
    assert one_sentence(str(err.value))


@pytest.mark.parametrize(
    ("weights", "pattern"),
    [
        ([1.0], r"2 contexts but 1 weights"),
        ([1.0, -1.0], r"weight of context 'z' is -1"),
        ([0, 0], r"add up to 0"),
    ],
)
def test_invalid_context_weights(weights, pattern):
    with pytest.raises(GameValidationError, match=pattern) as err:
        PreferenceGame.from_contexts([RPS, RPS], LABELS, ["x", "z"], weights)
    assert one_sentence(str(err.value))


def test_bradley_terry_rejects_non_finite_scores():
    with pytest.raises(GameValidationError, match=r"score of 'b' is NaN"):
        PreferenceGame.from_bradley_terry([0.0, math.nan], ["a", "b"])


def test_unknown_label_and_context_lookups():
    g = PreferenceGame.from_matrix(RPS, LABELS)
    assert g.index("paper") == 1
    with pytest.raises(GameValidationError, match="no response 'lizard'"):
        g.index("lizard")
