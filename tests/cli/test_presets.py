"""`nlhf presets`: every preset, with its story."""

from __future__ import annotations

from nlhf_core.games.presets import preset_names

from .runner import run_cli, run_json


def test_presets_json_lists_every_preset_with_a_story(capsys):
    data = run_json(capsys, "presets")
    names = [p["name"] for p in data["presets"]]
    assert names == preset_names() and len(names) >= 8
    assert all(len(p["story"]) > 100 for p in data["presets"])


def test_presets_readable_output(capsys):
    code, out, _ = run_cli(capsys, "presets")
    assert code == 0 and "preset:rock-paper-scissors" in out
