"""`nlhf study --config smoke`: the acceptance checks of the paper's comparison (issue 8).

One seeded smoke study runs once per module (two seeds, two betas, tiny budgets); the checks
read what it wrote: the matrix is a proper win-rate matrix (values in [0, 1], ``W + W^T = 1``),
Nash-MD-PG beats SFT, the intervals contain the mean, and the CSV, Markdown, SVG and HTML
outputs agree with ``study.json``.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlhf_core.cli.main import main
from nlhf_core.errors import ParameterError
from nlhf_core.llm import win_rates
from nlhf_core.study import language_model as study

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    assert main(["study", "--config", "smoke", "--out", str(out), "--quiet"]) == 0
    return out, json.loads((out / "study.json").read_text(encoding="utf-8"))


def test_layout(smoke):
    _, result = smoke
    names = result["methods"]
    assert names == study.method_names(result["betas"])
    assert names[0] == "sft" and "rlhf" in names and "self-play" in names and "nash-ema-pg" in names
    assert result["seeds"] == [0, 1] and result["betas"] == [0.125, 0.5]
    for key in ("win_rates", "win_rates_ci_low", "win_rates_ci_high", "win_rates_preference_model"):
        assert np.array(result[key]).shape == (len(names), len(names))
    assert set(result["per_seed"]) == {"0", "1"}
    assert result["wall_time_s"] > 0


@pytest.mark.parametrize("key", ["win_rates", "win_rates_preference_model"])
def test_matrix_is_a_win_rate_matrix(smoke, key):
    _, result = smoke
    W = np.array(result[key])
    assert np.all((W >= 0) & (W <= 1))
    np.testing.assert_allclose(W + W.T, 1.0, atol=1e-12)
    np.testing.assert_allclose(np.diag(W), 0.5)
    for seed in result["per_seed"].values():
        S = np.array(seed[key])
        np.testing.assert_allclose(S + S.T, 1.0, atol=1e-12)
        assert np.all((S >= 0) & (S <= 1))


def test_nash_md_beats_sft(smoke):
    _, result = smoke
    names, W = result["methods"], np.array(result["win_rates"])
    sft = names.index("sft")
    for beta in result["betas"]:
        assert W[names.index(study.nash_md_name(beta)), sft] > 0.5
        for seed in result["per_seed"].values():
            assert seed["win_rates"][names.index(study.nash_md_name(beta))][sft] > 0.5


def test_intervals_contain_the_mean(smoke):
    _, result = smoke
    W, L, H = (np.array(result[k]) for k in ("win_rates", "win_rates_ci_low", "win_rates_ci_high"))
    assert np.all(L <= W + 1e-12) and np.all(W <= H + 1e-12)
    np.testing.assert_allclose(L + H.T, 1.0, atol=1e-12)
    per = np.stack([np.array(s["win_rates"]) for s in result["per_seed"].values()])
    np.testing.assert_allclose(per.mean(axis=0), W, atol=1e-12)


def test_outputs_agree_with_json(smoke):
    out, result = smoke
    with open(out / "study.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][1:] == result["methods"]
    assert [r[0] for r in rows[1:]] == result["methods"]
    np.testing.assert_allclose([[float(v) for v in r[1:]] for r in rows[1:]], result["win_rates"], rtol=0, atol=0)
    with open(out / "study_cells.csv", encoding="utf-8", newline="") as f:
        cells = list(csv.DictReader(f))
    assert len(cells) == len(result["methods"]) ** 2
    names = result["methods"]
    for cell in cells:
        i, j = names.index(cell["row"]), names.index(cell["column"])
        assert float(cell["ci_low"]) == result["win_rates_ci_low"][i][j]
        assert float(cell["preference_model"]) == result["win_rates_preference_model"][i][j]
    md = (out / "study.md").read_text(encoding="utf-8")
    assert all(m in md for m in names) and f"{result['win_rates'][1][0]:.3f}" in md
    assert (out / "study.svg").read_text(encoding="utf-8").startswith("<svg")
    assert "plotly" in (out / "study.html").read_text(encoding="utf-8").lower()


def test_shared_stages_are_copied_not_retrained(smoke):
    out, _ = smoke
    seed = out / "runs" / "seed-0"
    extra = seed / "nash-md-pg-beta-0.5"
    assert json.loads((extra / "checkpoints" / "sft" / "done.json").read_text()) == json.loads(
        (seed / "base" / "checkpoints" / "sft" / "done.json").read_text()
    )
    assert (extra / "data" / "pairs.safetensors").read_bytes() == (
        seed / "base" / "data" / "pairs.safetensors"
    ).read_bytes()
    assert not (extra / "checkpoints" / "reward-model").exists()
    assert not (extra / "checkpoints" / "rlhf").exists()


def test_win_matrix_by_hand():
    P = np.array([[[0.5, 0.8], [0.2, 0.5]]])
    a, b = np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]])
    W = win_rates.win_matrix([a, b], P, np.array([1.0]))
    np.testing.assert_allclose(W, [[0.5, 0.65], [0.35, 0.5]])


def test_bad_seeds_and_betas_are_one_sentence_errors(tmp_path):
    with pytest.raises(ParameterError, match="Betas"):
        study.run_study("smoke", tmp_path, betas=[1.5])
    with pytest.raises(ParameterError, match="Seeds"):
        study.run_study("smoke", tmp_path, seeds=[])
    assert main(["study", "--config", "smoke", "--out", str(tmp_path), "--seeds", "a,b"]) == 2
