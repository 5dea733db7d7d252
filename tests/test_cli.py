"""The `nlhf` command line: the JSON contract, readable tables, and errors without tracebacks."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

from nlhf_core.cli import main
from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.presets import get_preset, preset_names


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run_cli(capsys, *argv, "--json")
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def test_presets_json_lists_every_preset_with_a_story(capsys):
    data = run_json(capsys, "presets")
    names = [p["name"] for p in data["presets"]]
    assert names == preset_names() and len(names) >= 8
    assert all(len(p["story"]) > 100 for p in data["presets"])


def test_equilibrium_contract_and_values(capsys):
    data = run_json(capsys, "equilibrium", "preset:biased-cycle")
    assert set(data) >= {"labels", "policy", "tau", "exploitability", "regularized_gap"}
    assert data["labels"] == ["rock", "paper", "scissors"]
    np.testing.assert_allclose(data["policy"], np.array([1, 10, 5]) / 16, atol=1e-14)
    assert data["tau"] is None and data["regularized_gap"] is None
    assert 0 <= data["exploitability"] <= 1e-9 and data["unique"] is True


def test_regularized_equilibrium_with_reference_file(capsys, tmp_path):
    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps([0.6, 0.2, 0.2]))
    data = run_json(capsys, "equilibrium", "preset:paper-three-annotators", "--tau", "0.05", "--reference", str(ref))
    expected = regularized_nash(get_preset("paper-three-annotators"), 0.05, [0.6, 0.2, 0.2])
    np.testing.assert_allclose(data["policy"], expected.policy, atol=1e-13)
    assert data["tau"] == 0.05 and abs(data["regularized_gap"]) <= 1e-10
    np.testing.assert_allclose(data["reference"], [0.6, 0.2, 0.2])


def test_contextual_equilibrium(capsys):
    data = run_json(capsys, "equilibrium", "preset:two-prompts")
    assert data["contexts"] == ["tell a joke", "state a fact"]
    np.testing.assert_allclose(data["policy"], nash_equilibrium(get_preset("two-prompts")).policy)


def test_solve_contract(capsys):
    data = run_json(
        capsys,
        "solve",
        "preset:rock-paper-scissors",
        "--algorithm",
        "nash-md",
        "--tau",
        "0.2",
        "--eta",
        "1",
        "--iterations",
        "40",
        "--trajectory-every",
        "10",
        "--init",
        "uniform",
        "--seed",
        "3",
    )
    assert set(data) >= {
        "labels",
        "algorithm",
        "params",
        "iterations",
        "queries",
        "policy",
        "metrics",
        "trajectory",
    }
    assert data["algorithm"] == "nash-md" and data["iterations"] == 40 and data["queries"] == 40
    assert data["params"]["tau"] == 0.2 and data["params"]["eta"] == 1.0 and data["params"]["seed"] == 3
    assert set(data["metrics"]) == {"exploitability", "regularized_gap", "kl_to_equilibrium"}
    assert [t["step"] for t in data["trajectory"]] == [0, 10, 20, 30, 40]
    assert data["trajectory"][-1]["policy"] == data["policy"]
    assert math.isclose(sum(data["policy"]), 1.0, abs_tol=1e-12)


def test_solve_accepts_generic_params(capsys):
    data = run_json(capsys, "solve", "preset:biased-cycle", "-a", "nash-md", "--param", "schedule=theorem", "-n", "200")
    assert data["params"]["schedule"] == "theorem"
    assert "trajectory" not in data


def test_algorithms_json_lists_the_registry(capsys):
    data = run_json(capsys, "algorithms")
    nash_md = next(a for a in data["algorithms"] if a["name"] == "nash-md")
    assert {p["name"] for p in nash_md["params"]} == {"tau", "eta", "schedule"}
    assert "Munos" in nash_md["citation"]


def test_readable_output(capsys):
    code, out, _ = run_cli(capsys, "equilibrium", "preset:biased-cycle")
    assert code == 0 and "paper     0.625" in out and "exploitability" in out
    code, out, _ = run_cli(capsys, "solve", "preset:biased-cycle", "-a", "nash-md", "-n", "50")
    assert code == 0 and "50 preference queries" in out
    code, out, _ = run_cli(capsys, "presets")
    assert "preset:rock-paper-scissors" in out
    code, out, _ = run_cli(capsys, "algorithms")
    assert "nash-md: Nash-MD" in out


BAD_FILES = {
    "non-square.csv": (",a,b\na,0.5,0.5,0.5\nb,0.5,0.5\n", "has 3 values but there are 2 columns"),
    "labels.json": ('{"labels": ["a"], "matrix": [[0.5, 0.5], [0.5, 0.5]]}', "has 1 labels but a 2×2 matrix"),
    "duplicate.json": ('{"labels": ["a", "a"], "matrix": [[0.5, 0.5], [0.5, 0.5]]}', "appears twice"),
    "nan.csv": (",a,b\na,0.5,nan\nb,0.5,0.5\n", "Cell (a, b) is NaN"),
    "range.json": ('{"labels": ["a", "b"], "matrix": [[0.5, 1.5], [-0.5, 0.5]]}', "outside [0, 1]"),
    "complement.csv": (",a,b\na,0.5,0.3\nb,0.6,0.5\n", "add up to 0.9, not 1; set (b, a) to 0.7"),
    "diagonal.csv": (",a,b\na,0.4,0.5\nb,0.5,0.5\n", "ties with itself"),
    "empty.json": ('{"labels": [], "matrix": []}', "The game is empty"),
    "broken.json": ('{"labels": [', "malformed at line 1"),
    "formula.csv": (",a,b\na,0.5,=1/2\nb,0.5,0.5\n", "is '=1/2', not a number"),
    # near-misses print enough digits to show what is wrong (issue 19)
    "complement-near.csv": (
        ",a,b\na,0.5,0.3\nb,0.7000002,0.5\n",
        "(b, a) = 0.7000002 add up to 1.0000002, not 1; set (b, a) to 0.7",
    ),
    "complement-tiny.json": (
        '{"labels": ["a", "b"], "matrix": [[0.5, 1e-8], [0.999999993, 0.5]]}',
        "(b, a) = 0.999999993 add up to 1.000000003, not 1; set (b, a) to 0.99999999",
    ),
    "diagonal-near.csv": (",a,b\na,0.50000001,0.5\nb,0.5,0.5\n", "Cell (a, a) is 0.50000001 but"),
    # separators that are not commas, and trailing commas (issue 19)
    "semicolons.csv": (";a;b\na;0.5;0.3\nb;0.7;0.5\n", "separate its values with semicolons (';'), not commas"),
    "decimal-commas.csv": (";a;b\na;0,5;0,3\nb;0,7;0,5\n", "semicolons (';') and to write commas as decimal points"),
    "tabs.csv": ("\ta\tb\na\t0.5\t0.3\nb\t0.7\t0.5\n", "seems to separate its values with tabs, not commas"),
    "trailing.csv": (",a,b,\na,0.5,0.3,\nb,0.7,0.5,\n", "Every row of the CSV ends with a comma"),
    "trailing-rows.csv": (",a,b\na,0.5,0.3,\nb,0.7,0.5,\n", "Every row of the CSV ends with a comma"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_exit_2_with_one_sentence(capsys, tmp_path, name):
    text, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    code, out, err = run_cli(capsys, "equilibrium", str(path), "--json")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["equilibrium", "preset:biased-cycle", "--tau", "0"], "tau = 0 is not a positive number"),
        (["equilibrium", "preset:biased-cycle", "--tau", "1e-9"], "below the supported minimum"),
        (["equilibrium", "preset:biased-cycle", "--tau", "nan"], "tau = nan"),
        (["equilibrium", "preset:biased-cycle", "--reference", "uniform"], "only matters with --tau"),
        (["equilibrium", "preset:nope"], "There is no preset 'nope'"),
        (["equilibrium", "missing.json"], "There is no file 'missing.json'"),
        (["solve", "preset:biased-cycle", "-a", "nash-md", "--eta", "1e6"], "eta = 1e+06 is outside"),
        (
            ["solve", "preset:biased-cycle", "-a", "nash-md", "--tau", "0.5", "--eta", "5"],
            "eta × tau = 2.5 exceeds 1",
        ),
        (["solve", "preset:biased-cycle", "-a", "magic"], "There is no algorithm 'magic'"),
        (["solve", "preset:biased-cycle", "-a", "nash-md", "-n", "0"], "iterations = 0 is outside"),
        (["solve", "preset:biased-cycle", "-a", "nash-md", "--param", "oops"], "is not NAME=VALUE"),
        (
            ["solve", "preset:biased-cycle", "-a", "nash-md", "--init", "nofile.txt"],
            "There is no initial policy file",
        ),
        (["solve", "preset:biased-cycle"], "the following arguments are required: --algorithm"),
        (["equilibrium", "preset:biased-cycle", "--tau", "abc"], "invalid float value: 'abc'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_exit_2_with_one_sentence(capsys, argv, expected):
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert expected.lower() in err.lower() and err.count("\n") == 1 and "Traceback" not in err


def test_console_script_exit_codes_without_tracebacks(tmp_path):
    """The real entry point, in a subprocess: exit status and stderr as a user sees them."""
    ok = subprocess.run(
        [sys.executable, "-m", "nlhf_core.cli", "equilibrium", "preset:rock-paper-scissors", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["policy"] == pytest.approx([1 / 3] * 3)
    bad = tmp_path / "bad.csv"
    bad.write_text(",a,b\na,0.5,0.3\nb,0.6,0.5\n")
    fail = subprocess.run(
        [sys.executable, "-m", "nlhf_core.cli", "equilibrium", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fail.returncode == 2 and fail.stdout == ""
    assert fail.stderr.startswith("error: Cells (a, b) = 0.3") and "Traceback" not in fail.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "nlhf_core.cli", "solve", "preset:x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_size_limit_in_the_cli(capsys, tmp_path, monkeypatch):
    import nlhf_core.games as games

    monkeypatch.setattr(games, "MAX_RESPONSES", 3)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"labels": list("abcd"), "matrix": np.full((4, 4), 0.5).tolist()}))
    code, out, err = run_cli(capsys, "equilibrium", str(path), "--json")
    assert code == 2 and out == "" and "4 responses, more than the limit of 3" in err


@pytest.mark.parametrize("algorithm", [s.name for s in __import__("nlhf_core.algorithms").algorithms.list_algorithms()])
def test_solve_accepts_every_registered_algorithm(capsys, algorithm):
    data = run_json(capsys, "solve", "preset:biased-cycle", "-a", algorithm, "-n", "50")
    assert data["algorithm"] == algorithm and data["iterate"] in ("last", "average")
    assert math.isclose(sum(data["policy"]), 1.0, abs_tol=1e-12)


def test_solve_with_sampled_preferences_is_seeded(capsys):
    argv = ["solve", "preset:biased-cycle", "-a", "nash-mp", "-n", "30", "--samples", "10", "--seed", "4"]
    a, b = run_json(capsys, *argv), run_json(capsys, *argv)
    assert a["policy"] == b["policy"] and a["comparisons"] == 30 * 2 * 10 * 3
    assert a["params"]["samples"] == 10


def test_rlhf_contract(capsys):
    data = run_json(capsys, "rlhf", "preset:condorcet-winner", "--tau", "0.1")
    assert set(data) >= {"labels", "rewards", "policy", "exploitability", "win_rate_vs_nash"}
    assert np.argmax(data["rewards"]) == 1 and data["win_rate_vs_nash"] == pytest.approx(0.450298, abs=1e-6)
    assert data["separable"] is False and data["warning"] is None
    skewed = run_json(
        capsys,
        "rlhf",
        "preset:paper-three-annotators",
        "--tau",
        "0.05",
        "--sampling",
        "reference",
        "--reference",
        _write(capsys, [0.6, 0.2, 0.2]),
    )
    assert np.argmax(skewed["rewards"]) == 1


def _write(capsys, policy) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(policy, handle)
    return handle.name


def test_rlhf_separable_warning_in_readable_mode(capsys, tmp_path):
    path = tmp_path / "transitive.json"
    path.write_text(json.dumps({"labels": ["top", "mid", "low"], "upper_triangle": [1, 1, 1]}))
    code, out, err = run_cli(capsys, "rlhf", str(path), "--tau", "0.1")
    assert code == 0 and err.startswith("warning: ") and "ridge" in err and "RLHF policy" in out


def test_compare_contract(capsys):
    data = run_json(
        capsys, "compare", "preset:condorcet-winner", "--tau", "0.1", "--solvers", "nash-md,mwu", "-n", "100"
    )
    assert data["names"][-2:] == ["nash-md", "mwu"]
    W = np.array(data["win_rates"])
    np.testing.assert_allclose(W + W.T, 1.0, atol=1e-12)
    assert len(data["exploitability"]) == len(data["names"]) and "Nash policy beats" in data["verdict"]
    code, out, _ = run_cli(capsys, "compare", "preset:biased-cycle", "--tau", "0.1", "--solvers", "")
    assert code == 0 and "exploitability" in out


def test_sweep_contract(capsys):
    data = run_json(
        capsys, "sweep", "preset:biased-cycle", "-a", "nash-md", "--eta", "0.1:10:3", "--tau", "0.2", "-n", "100"
    )
    assert data["etas"] == pytest.approx([0.1, 1.0, 10.0]) and data["taus"] == [0.2]
    grid = data["metrics"]["kl_to_equilibrium"]
    assert len(grid) == 1 and len(grid[0]) == 3 and grid[0][2] is None  # eta × tau = 2 > 1: not valid
    code, out, _ = run_cli(capsys, "sweep", "preset:biased-cycle", "-a", "mwu", "--eta", "0.01:0.1:2")
    assert code == 0 and "kl to equilibrium" in out and "0.01" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sweep", "preset:biased-cycle", "-a", "nash-md"], "Give --eta a:b:k and/or --tau"),
        (["sweep", "preset:biased-cycle", "-a", "nash-md", "--eta", "1:2"], "a:b:k"),
        (["sweep", "preset:biased-cycle", "-a", "mwu", "--tau", "0.1"], "no tau to sweep"),
        (["compare", "preset:biased-cycle", "--tau", "0.1", "--solvers", "magic"], "no algorithm 'magic'"),
        (["rlhf", "preset:biased-cycle", "--tau", "0"], "tau = 0 is not a positive number"),
        (["solve", "preset:biased-cycle", "-a", "mwu", "--samples", "0"], "whole number of comparisons"),
        (["solve", "preset:biased-cycle", "-a", "mwu", "--tau", "0.1"], "has no parameter tau"),
    ],
)
def test_new_commands_refuse_bad_arguments(capsys, argv, expected):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == "" and expected in err and err.count("\n") == 1


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


def test_feedback_simulate_fit_pipeline(capsys, tmp_path):
    out = tmp_path / "comparisons.csv"
    data = run_json(
        capsys, "feedback", "simulate", "preset:condorcet-paradox", "-n", "3000", "--seed", "1", "--out", str(out)
    )
    assert data["comparisons"] == 3000 and out.read_text().startswith("context,first,second,winner,group")
    fit = run_json(capsys, "feedback", "fit", "preset:condorcet-paradox", str(out))
    P = np.array(fit["preference_model"]["matrix"])
    np.testing.assert_allclose(P + P.T, 1.0, atol=1e-12)
    assert P[0, 1] > 0.5 and P[1, 2] > 0.5 and P[2, 0] > 0.5  # the cycle is recovered from data
    ll = fit["held_out_log_likelihood"]
    assert ll["preference_model"] > ll["reward_model"]
    pipe = run_json(
        capsys,
        "feedback",
        "pipeline",
        "preset:condorcet-winner",
        "--samples",
        "5000",
        "--sampling",
        "uniform",
        "--tau",
        "0.1",
        "--seed",
        "2",
    )
    assert set(pipe) >= {"labels", "preference_model", "reward_model", "policies", "true_exploitability"}
    assert set(pipe["policies"]) == {"nlhf", "rlhf"} and len(pipe["reward_model"]["rewards"]) == 3
    assert pipe["true_exploitability"]["nlhf"] < pipe["true_exploitability"]["rlhf"]
    code, text, _ = run_cli(capsys, "feedback", "pipeline", "preset:biased-cycle", "-n", "1000")
    assert code == 0 and "true exploitability" in text


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["feedback", "pipeline", "preset:biased-cycle", "-n", "0"], "whole number of comparisons"),
        (["feedback", "simulate", "preset:biased-cycle", "-n", "10", "--out", "x.txt"], "to a .csv file"),
        (["feedback", "fit", "preset:biased-cycle", "missing.csv"], "no comparison file"),
        (
            ["feedback", "simulate", "preset:biased-cycle", "-n", "10", "--noise", "0.9", "--out", "x.csv"],
            "noise = 0.9",
        ),
        (["feedback"], "required: STEP"),
    ],
)
def test_feedback_errors(capsys, argv, expected):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and expected in err and "Traceback" not in err
