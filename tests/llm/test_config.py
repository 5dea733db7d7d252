"""Config of the language-model trainer: built-ins, overrides, validation with one clear sentence, TOML round trip."""

from __future__ import annotations

import pytest

from nlhf_core.cli.main import main
from nlhf_core.errors import ParameterError
from nlhf_core.llm import config as cfgmod
from nlhf_core.llm.config_text import to_toml
from nlhf_core.llm.judges import import_callable


def test_builtins_validate_and_smoke_is_smaller():
    default = cfgmod.load_config("default")
    smoke = cfgmod.load_config("smoke")
    assert default == cfgmod.load_config(None)
    assert smoke.policy.steps < default.policy.steps
    assert set(default.policy.methods) == {"rlhf", "self-play", "nash-md-pg", "nash-ema-pg"}
    assert default == cfgmod.TrainingConfig()


def test_overrides_are_toml_literals_or_text():
    c = cfgmod.load_config("smoke", ["policy.tau=0.05", "policy.methods=['rlhf']", "task.game=preset:condorcet-winner"])
    assert c.policy.tau == 0.05
    assert c.policy.methods == ["rlhf"]
    assert c.task.game == "preset:condorcet-winner"
    tau = cfgmod.load_config("smoke", ["policy.tau=1"]).policy.tau
    assert tau == 1.0 and isinstance(tau, float)  # ints coerced to float


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("polcy.tau=0.1", "Unknown setting 'polcy.tau'"),
        ("policy.taus=0.1", "Unknown setting 'policy.taus'; valid keys are"),
        ("policy.tau=-1", "'policy.tau' = -1.0 is out of range"),
        ("policy.beta=2", "'policy.beta' = 2.0 is out of range"),
        ("policy.methods=['nash-md']", "'policy.methods'"),
        ("sft.steps=ten", "'sft.steps' must be a int"),
        ("policy.batch_size=33\nrun.shards=2", "not a multiple of 'run.shards'"),
        ("model.n_embd=63", "not a multiple of 'model.n_head'"),
        ("run.device='tpu'", "'run.device'"),
        ("policy.tau", "is not SECTION.KEY=VALUE"),
    ],
)
def test_bad_settings_get_one_clear_sentence(override, fragment):
    with pytest.raises(ParameterError, match=None) as err:
        cfgmod.load_config("smoke", override.split("\n"))
    message = str(err.value)
    assert fragment in message
    assert message.endswith(".") and "\n" not in message


def test_toml_file_round_trip_and_unknown_keys_in_files(tmp_path):
    c = cfgmod.load_config("smoke", ["policy.beta=0.25", "task.hedges=['well']"])
    path = tmp_path / "run.toml"
    path.write_text(to_toml(c), encoding="utf-8")
    assert cfgmod.load_config(path) == c
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy]\nstepz = 3\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"Unknown setting 'policy\.stepz'"):
        cfgmod.load_config(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[policy\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="not valid TOML"):
        cfgmod.load_config(broken)
    with pytest.raises(ParameterError, match="There is no config"):
        cfgmod.load_config(tmp_path / "missing.toml")


def test_cli_reports_config_errors_in_one_sentence(capsys):
    assert main(["train", "--set", "policy.tau=0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Setting 'policy.tau'") and err.count("\n") == 1
    assert main(["train", "--print-config", "--tau", "0.05", "--methods", "rlhf,nash-md-pg"]) == 0
    out = capsys.readouterr().out
    assert "tau = 0.05" in out and 'methods = ["rlhf", "nash-md-pg"]' in out


def test_judge_import_path_errors_are_clear():
    with pytest.raises(ParameterError, match="Cannot import the judge"):
        import_callable("no_such_module_xyz:judge")
    with pytest.raises(
        ParameterError, match="not 'oracle', 'preference-model', 'hf-reward:DIR', 'hf-pairwise:DIR' or an import path"
    ):
        import_callable("justaname")
    assert callable(import_callable("tests.llm.test_trainer:length_judge"))
