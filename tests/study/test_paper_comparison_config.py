"""The language-model study of preset:paper-comparison runs at the tabular study's defaults (issue 16, part 5)."""

from __future__ import annotations

from pathlib import Path

from nlhf_core.llm.config import load_config
from nlhf_core.study.defaults import preset_study
from nlhf_core.study.language_model import study_defaults, study_methods

DOCS = Path(__file__).resolve().parents[2] / "docs" / "study" / "paper-comparison"


def test_built_in_config_matches_the_presets_study_defaults():
    config, found = load_config("paper-comparison"), preset_study("paper-comparison")
    assert found is not None
    assert config.task.game == "preset:paper-comparison"
    assert config.sft.answer_weights == found.settings["sft.answer_weights"]
    assert config.policy.tau == found.settings["policy.tau"] and config.rlhf.tau == found.settings["rlhf.tau"]
    assert config.data.noise == found.settings["data.noise"]
    assert config.task.hedges == ["maybe"]  # one first word: the token-level mixture is the sequence-level one
    assert config.data.rounds == 2 and config.data.reward_pairs == "sft"
    defaults = study_defaults("paper-comparison")
    assert defaults["seeds"] == [0, 1, 2] and set(defaults["betas"]) <= set(found.betas) and 1.0 in defaults["betas"]
    assert study_methods(config) == ["rlhf", "self-play", "nash-md-pg"]


def test_the_documented_toml_is_the_built_in_config():
    assert load_config(DOCS / "paper-comparison.toml") == load_config("paper-comparison")


def test_other_configs_keep_one_feedback_round_and_every_method():
    for name in ("default", "smoke"):
        config = load_config(name)
        assert config.data.rounds == 1 and config.data.reward_pairs == "all"
        assert study_methods(config) == ["rlhf", "self-play", "nash-md-pg", "nash-ema-pg"]
