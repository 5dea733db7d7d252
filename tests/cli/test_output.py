"""Shared output helpers: JSON without NaN, aligned tables, per-context results, the solve/pg summary."""

from __future__ import annotations

import json

import numpy as np

from nlhf_core.cli.output import emit_json, game_fields, jsonable, per_context, policy_rows, print_summary, table
from nlhf_core.games.presets import get_preset


def test_jsonable_turns_numpy_into_python_and_non_finite_into_null():
    value = {1: np.array([0.5, np.nan]), "b": (np.float64(np.inf), np.int64(3)), "c": [np.bool_(True), "x"]}
    assert jsonable(value) == {"1": [0.5, None], "b": [None, 3], "c": [True, "x"]}
    assert type(jsonable(np.int64(3))) is int and type(jsonable(np.float32(0.25))) is float


def test_emit_json_prints_one_line_of_strict_json(capsys):
    emit_json({"policy": np.array([1 / 3, 2 / 3]), "gap": float("nan"), "name": "pi ∝ mu"})
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out, parse_constant=lambda c: 1 / 0) == {"policy": [1 / 3, 2 / 3], "gap": None, "name": "pi ∝ mu"}


def test_table_aligns_columns_and_shows_six_significant_digits():
    text = table([["rock", 1 / 3], ["scissors", np.float64(0.125)]], ["response", "p"])
    assert text == "response  p\n--------  --------\nrock      0.333333\nscissors  0.125"


def test_per_context_and_game_fields():
    plain, contextual = get_preset("biased-cycle"), get_preset("two-prompts")
    array = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(per_context(plain, array[:1]), [0.0, 1.0, 2.0])
    assert per_context(contextual, array) is array and per_context(plain, None) is None
    assert set(game_fields(plain)) == {"labels"}
    fields = game_fields(contextual)
    assert fields["contexts"] == ["tell a joke", "state a fact"] and np.isclose(np.sum(fields["weights"]), 1.0)


def test_policy_rows_per_context():
    game = get_preset("two-prompts")
    policy = np.full((2, 3), 1 / 3)
    rows = policy_rows(game, policy)
    assert len(rows) == 6 and rows[0] == ["tell a joke", game.labels[0], 1 / 3] and rows[-1][0] == "state a fact"


def test_print_summary_skips_missing_metrics(capsys):
    game = get_preset("rock-paper-scissors")
    metrics = {"exploitability": 0.00123456, "kl_to_equilibrium": None}
    print_summary("Nash-MD", game, "preset:x", {"tau": 0.1}, "10 iterations", 10, np.full(3, 1 / 3), metrics)
    out = capsys.readouterr().out
    assert out.startswith(f"Nash-MD on {game.name}: tau=0.1\n10 iterations, 10 preference queries\n\n")
    assert out.endswith("\nexploitability: 0.00123\n") and "kl to equilibrium" not in out
