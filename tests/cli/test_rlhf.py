"""`nlhf rlhf`: the Bradley–Terry reward fit and the RLHF policy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .runner import assert_refused, run_cli, run_json


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


def test_rlhf_refuses_bad_arguments(capsys):
    assert_refused(capsys, ["rlhf", "preset:biased-cycle", "--tau", "0"], "tau = 0 is not a positive number")
