"""`nlhf feedback simulate|fit|pipeline`: the human-feedback lab."""

from __future__ import annotations

import numpy as np
import pytest

from nlhf_core.cli.main import main

from .runner import run_cli, run_json


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
