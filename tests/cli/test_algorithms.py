"""`nlhf algorithms`: the tabular and the parametric registries."""

from __future__ import annotations

from .runner import run_cli, run_json


def test_algorithms_json_lists_the_registry(capsys):
    data = run_json(capsys, "algorithms")
    nash_md = next(a for a in data["algorithms"] if a["name"] == "nash-md")
    assert {p["name"] for p in nash_md["params"]} == {"tau", "eta", "schedule"}
    assert "Munos" in nash_md["citation"]


def test_algorithms_lists_the_parametric_ones(capsys):
    data = run_json(capsys, "algorithms")
    names = [a["name"] for a in data["algorithms"]]
    assert {"nash-md-pg", "nash-ema-pg", "self-play", "rlhf"} <= set(names)
    assert not {"self-play-pg", "rlhf-pg"} & set(names)  # former names resolve but are not listed
    assert names.index("nash-md") < names.index("nash-md-pg")
    assert {a["family"] for a in data["algorithms"]} == {"tabular", "policy-gradient"}


def test_algorithms_readable_output(capsys):
    code, out, _ = run_cli(capsys, "algorithms")
    assert code == 0 and "nash-md: Nash-MD" in out
