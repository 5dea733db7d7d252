"""`nlhf study --engine tabular` (issue 16): the LM study's settings, names and outputs, predicted exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nlhf_core.cli.main import build_parser, main
from nlhf_core.games.presets import get_preset
from nlhf_core.study import run_tabular_study, tabular_settings

ROOT = Path(__file__).resolve().parents[2]


def run_json(capsys, *argv: str) -> dict:
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_exact_table_of_the_preset_through_the_command_line(capsys, tmp_path):
    data = run_json(
        capsys, "study", "--engine", "tabular", "--game", "preset:paper-comparison", "--set", "data.pairs=0",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert data["methods"] == [
        "sft", "rlhf", "self-play", "nash-md-pg(beta=0.125)", "nash-md-pg(beta=0.25)", "nash-md-pg(beta=0.5)",
        "nash-md-pg(beta=0.75)", "nash-md-pg(beta=1)",
    ]  # fmt: skip
    core = run_tabular_study(
        tabular_settings(
            get_preset("paper-comparison"), [0.05, 0.05, 0.7, 0.2], tau=0.1, rlhf_tau=0.3,
            betas=[0.125, 0.25, 0.5, 0.75], pairs=0,
        )
    )  # fmt: skip
    np.testing.assert_allclose(data["win_rates"], core.exact, atol=1e-15)
    assert data["seeds"] == [] and data["win_rates_ci_low"] == data["win_rates"]
    on_disk = json.loads((tmp_path / "study.json").read_text(encoding="utf-8"))
    assert on_disk["win_rates"] == data["win_rates"] and data["out"] == str(tmp_path)
    W, names = np.array(data["win_rates"]), data["methods"]
    assert W[names.index("nash-md-pg(beta=0.5)"), 1] >= 0.55
    assert abs(W[names.index("self-play"), 1] - 0.5) <= 0.03 and W[names.index("nash-md-pg(beta=1)"), 1] < 0.5
    assert all(W[i, 0] > 0.5 for i in range(1, len(names)))


def test_settings_follow_the_language_model_names(capsys, tmp_path):
    data = run_json(
        capsys, "study", "--engine", "tabular", "--game", "preset:biased-cycle", "--betas", "0.25",
        "--seeds", "5,6,7", "--set", "sft.answer_weights=[1, 2, 1]", "--set", "data.pairs=300",
        "--set", "data.noise=0.1", "--set", "policy.tau=0.2", "--set", "rlhf.tau=0.5", "--out", str(tmp_path),
    )  # fmt: skip
    assert data["methods"][3:] == ["nash-md-pg(beta=0.25)", "nash-md-pg(beta=1)"]
    assert data["seeds"] == [5, 6, 7] and set(data["per_seed"]) == {"5", "6", "7"}
    np.testing.assert_allclose(data["policies"]["sft"], [[0.25, 0.5, 0.25]])  # mu ∝ the answer weights
    assert data["resolved_config"]["policy"] == {"tau": 0.2} and data["resolved_config"]["rlhf"] == {"tau": 0.5}
    assert data["resolved_config"]["data"] == {"pairs": 300, "noise": 0.1}
    core = run_tabular_study(
        tabular_settings(
            get_preset("biased-cycle"), [0.25, 0.5, 0.25], tau=0.2, rlhf_tau=0.5, betas=[0.25], pairs=300,
            noise=0.1, seeds=[5, 6, 7],
        )
    )  # fmt: skip
    np.testing.assert_allclose(data["win_rates"], core.mean, atol=1e-15)
    np.testing.assert_allclose(data["win_rates_ci_high"], core.high, atol=1e-15)


def test_preset_defaults_are_used_and_the_default_engine_is_the_language_model(capsys, tmp_path):
    assert build_parser().parse_args(["study"]).engine == "lm"
    data = run_json(capsys, "study", "--engine", "tabular", "--game", "preset:paper-comparison", "--out", str(tmp_path))
    assert data["resolved_config"]["data"]["pairs"] == 10_000 and len(data["seeds"]) == 50
    assert data["resolved_config"]["rlhf"]["tau"] == 0.3 and data["betas"] == [0.125, 0.25, 0.5, 0.75, 1.0]
    code = main(["study", "--engine", "tabular", "--game", "preset:paper-comparison", "--set", "data.pairs=0",
                 "--out", str(tmp_path / "text")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "exact, infinite data" in out and "nash-md-pg(beta=0.5)" in out


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--betas", "0.5,1.5"], "beta = 1.5 is outside [0, 1]"),
        (["--set", "data.pairs=-3"], "is negative"),
        (["--set", "sft.answer_weights=[0, 1, 1, 1]"], "positive weight per answer"),
        (["--set", "sft.answer_weights=[1, 1]"], "has 2 weights but the game has 4 answers"),
        (["--set", "data.noise=0.6"], "label noise must be a probability"),
        (["--set", "policy.steps=5"], "tabular engine has no setting 'policy.steps'"),
        (["--config", "smoke"], "leave it out"),
        (["--seeds", "a"], "not a comma-separated list"),
    ],
)
def test_bad_settings_exit_2_with_one_sentence(capsys, tmp_path, extra, words):
    code = main(["study", "--engine", "tabular", "--game", "preset:paper-comparison", "--out", str(tmp_path), *extra])
    err = capsys.readouterr().err
    assert code == 2 and words in err, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_the_tabular_engine_imports_no_torch(tmp_path):
    script = (
        "import sys; from nlhf_core.cli.main import main; "
        f"code = main(['study', '--engine', 'tabular', '--game', 'preset:paper-comparison', '--set', "
        f"'data.pairs=200', '--seeds', '0,1', '--out', {str(tmp_path)!r}, '--json']); "
        "assert code == 0; assert 'torch' not in sys.modules, 'torch was imported'"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["engine"] == "tabular"
