"""Policy inputs: uniform, lists, mappings, files; errors name the problem and the fix."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nlhf_core.errors import PolicyError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.policies import as_context_policies, as_policy, as_reference, weights_from_text
from tests.helpers import one_sentence

LABELS = ("rock", "paper", "scissors")


def test_accepted_forms(tmp_path):
    np.testing.assert_allclose(as_policy(None, LABELS), np.full(3, 1 / 3))
    np.testing.assert_allclose(as_policy("uniform", LABELS), np.full(3, 1 / 3))
    np.testing.assert_allclose(as_policy([0.2, 0.3, 0.5], LABELS), [0.2, 0.3, 0.5])
    np.testing.assert_allclose(as_policy({"paper": 1, "rock": 0, "scissors": 0}, LABELS), [0, 1, 0])
    (tmp_path / "p.json").write_text(json.dumps({"policy": [0.5, 0.25, 0.25]}))
    (tmp_path / "p.csv").write_text("rock,0.5\npaper,0.25\nscissors,0.25\n")
    (tmp_path / "p.txt").write_text("# a comment\n0.5 0.25\n0.25\n")
    for name in ("p.json", "p.csv", "p.txt"):
        np.testing.assert_allclose(as_policy(str(tmp_path / name), LABELS), [0.5, 0.25, 0.25])


def test_sum_is_renormalized_within_tolerance():
    p = as_policy([0.2, 0.3, 0.5 + 1e-9], LABELS)
    assert p.sum() == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        ([0.5, 0.5], r"has 2 probabilities but the game has 3 responses"),
        ([0.5, 0.7, -0.2], r"gives 'scissors' probability -0.2; probabilities must be between 0 and 1"),
        ([0.5, float("nan"), 0.5], r"gives 'paper' probability nan"),
        ([0.2, 0.2, 0.2], r"adds up to 0.6, not 1"),
        ({"rock": 1.0}, r"gives no probability for 'paper'"),
        ({"lizard": 1.0}, r"names 'lizard', which is not a response"),
        ("missing-file.json", r"no policy file 'missing-file.json'"),
    ],
)
def test_invalid_policies(spec, pattern):
    with pytest.raises(PolicyError, match=pattern) as err:
        as_policy(spec, LABELS)
    assert one_sentence(str(err.value)), str(err.value)


def test_reference_needs_full_support():
    game = PreferenceGame.from_matrix(np.full((3, 3), 0.5), LABELS)
    with pytest.raises(PolicyError, match=r"gives 'rock' probability 0.*mix in a little uniform mass") as err:
        as_reference([0.0, 0.5, 0.5], game)
    assert one_sentence(str(err.value))


def test_per_context_policies():
    game = PreferenceGame.from_contexts([np.full((2, 2), 0.5)] * 2, ["a", "b"], ["x", "z"])
    both = as_context_policies([[0.5, 0.5], [0.9, 0.1]], game)
    np.testing.assert_allclose(both, [[0.5, 0.5], [0.9, 0.1]])
    by_name = as_context_policies({"x": [1, 0], "z": "uniform"}, game)
    np.testing.assert_allclose(by_name, [[1, 0], [0.5, 0.5]])
    shared = as_context_policies([0.25, 0.75], game)
    np.testing.assert_allclose(shared, [[0.25, 0.75], [0.25, 0.75]])
    with pytest.raises(PolicyError, match="has 3 rows but the game has 2 context"):
        as_context_policies([[1, 0]] * 3, game)


def test_weights_from_text_normalizes_positive_weights():
    mu = weights_from_text("5, 70; 20 ,5", ["a", "b", "c", "d"])
    np.testing.assert_allclose(mu, [0.05, 0.70, 0.20, 0.05], rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1, 0, 1", "3 positive weights"),
        ("1, 2", "3 positive weights"),
        ("1, -2, 3", "3 positive weights"),
        ("1, inf, 3", "3 positive weights"),
        ("1, two, 3", "'two', which is not a number"),
    ],
)
def test_weights_from_text_refuses_bad_weights_with_a_sentence(text, expected):
    with pytest.raises(PolicyError, match=expected):
        weights_from_text(text, ["a", "b", "c"])
