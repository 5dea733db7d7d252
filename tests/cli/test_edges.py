"""Messages at the edges (issue 19): near-miss sums, a one-response game, a missing output folder, pair tables of
the wrong size and CSV separators each get one sentence naming the problem and the fix."""

from __future__ import annotations

import json
import warnings

import pytest

from .runner import run_cli


def test_policy_sums_near_one_print_enough_digits(capsys, tmp_path):
    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps([0.2, 0.3, 0.500002]))
    code, out, err = run_cli(capsys, "equilibrium", "preset:biased-cycle", "--tau", "0.1", "--reference", str(ref))
    assert code == 2 and out == "" and "adds up to 1.000002, not 1" in err and err.count("\n") == 1


def test_feedback_on_a_single_response_game_is_one_sentence(capsys, tmp_path):
    game = tmp_path / "one.json"
    game.write_text('{"labels": ["only"], "matrix": [[0.5]]}')
    for argv in (
        ["feedback", "simulate", str(game), "-n", "10", "--out", str(tmp_path / "x.csv")],
        ["feedback", "pipeline", str(game), "-n", "10"],
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no NumPy warning on the way
            code, out, err = run_cli(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1
        assert "single response ('only'), so there is no pair to compare; add a second response" in err


def test_feedback_simulate_into_a_missing_folder(capsys, tmp_path):
    target = tmp_path / "missing_dir" / "x.csv"
    code, out, err = run_cli(capsys, "feedback", "simulate", "preset:biased-cycle", "-n", "10", "--out", str(target))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "missing_dir' of --out does not exist; create it first" in err and not target.parent.exists()
    code, _, err = run_cli(capsys, "feedback", "simulate", "preset:biased-cycle", "-n", "10", "--out", str(tmp_path))
    assert code == 2 and "to a .csv file" in err


@pytest.mark.parametrize(
    ("table", "game", "expected"),
    [
        ([[0, 1], [1, 0]], "preset:rock-paper-scissors", "pair sampling matrix is 2×2 but the game has 3 responses"),
        ([[0, 1], [1, 0]], "preset:two-prompts", "pair sampling matrix is 2×2 but the game has 3 responses"),
        ([[0, 1, 1]] * 4, "preset:rock-paper-scissors", "sampling table is 4×3; for this 3-response game give"),
        ([[0, 1, 1]] * 4, "preset:two-prompts", "one policy per context (2×3)"),
    ],
)
def test_pair_tables_of_the_wrong_size_are_named_as_such(capsys, tmp_path, table, game, expected):
    pairs = tmp_path / "pairs.json"
    pairs.write_text(json.dumps(table))
    code, out, err = run_cli(capsys, "compare", game, "--tau", "0.1", "--sampling", str(pairs))
    assert code == 2 and out == "" and expected in err and err.count("\n") == 1
    assert "policies" not in err.split("give")[0]  # the cause is the table's size, not "per-context policies"


def test_semicolon_comparison_files_name_their_separator(capsys, tmp_path):
    data = tmp_path / "c.csv"
    data.write_text("context;first;second;winner;group\n;rock;paper;rock;g\n")
    code, out, err = run_cli(capsys, "feedback", "fit", "preset:rock-paper-scissors", str(data))
    assert code == 2 and out == "" and "comparison file seems to separate its values with semicolons" in err
