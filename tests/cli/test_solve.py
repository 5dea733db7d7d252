"""`nlhf solve`: the JSON contract of the iterative solvers."""

from __future__ import annotations

import math

import pytest

from nlhf_core.algorithms.registry import list_solvers

from .runner import assert_refused, run_cli, run_json


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


@pytest.mark.parametrize("algorithm", [s.name for s in list_solvers()])
def test_solve_accepts_every_registered_algorithm(capsys, algorithm):
    data = run_json(capsys, "solve", "preset:biased-cycle", "-a", algorithm, "-n", "50")
    assert data["algorithm"] == algorithm and data["iterate"] in ("last", "average")
    assert math.isclose(sum(data["policy"]), 1.0, abs_tol=1e-12)


def test_solve_with_sampled_preferences_is_seeded(capsys):
    argv = ["solve", "preset:biased-cycle", "-a", "nash-mp", "-n", "30", "--samples", "10", "--seed", "4"]
    a, b = run_json(capsys, *argv), run_json(capsys, *argv)
    assert a["policy"] == b["policy"] and a["comparisons"] == 30 * 2 * 10 * 3
    assert a["params"]["samples"] == 10


def test_solve_readable_output(capsys):
    code, out, _ = run_cli(capsys, "solve", "preset:biased-cycle", "-a", "nash-md", "-n", "50")
    assert code == 0 and "50 preference queries" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["solve", "preset:biased-cycle", "-a", "mwu", "--samples", "0"], "whole number of comparisons"),
        (["solve", "preset:biased-cycle", "-a", "mwu", "--tau", "0.1"], "has no parameter tau"),
    ],
)
def test_solve_refuses_bad_arguments(capsys, argv, expected):
    assert_refused(capsys, argv, expected)
