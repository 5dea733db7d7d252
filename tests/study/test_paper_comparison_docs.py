"""The measured language-model study of preset:paper-comparison in docs/study/paper-comparison/ (issue 16, part 5).

Reads the stored ``study.json`` (3 seeds) and checks what the README says of it: (a) Nash-MD-PG at the best
beta beats RLHF with its 95 % interval above 1/2, (b) the best response (beta = 1) is below that beta against
RLHF, (c) every method beats SFT; the matrices are win-rate matrices, the intervals are the Student-t ones of
the per-seed values, and the tabular prediction's mean is the mean of its seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlhf_core.study.results import IntervalMatrix

STUDY = Path(__file__).resolve().parents[2] / "docs" / "study" / "paper-comparison" / "study.json"


@pytest.fixture(scope="module")
def study():
    return json.loads(STUDY.read_text(encoding="utf-8"))


def cell(study, table, row, column):
    names = study["methods"]
    return study[table][names.index(row)][names.index(column)]


def test_three_seeds_of_the_built_in_config(study):
    assert study["seeds"] == [0, 1, 2] and study["config"] == "paper-comparison"
    assert study["resolved_config"]["task"]["game"] == "preset:paper-comparison"
    assert study["resolved_config"]["policy"]["tau"] == 0.1 and study["resolved_config"]["rlhf"]["tau"] == 0.3
    assert study["wall_time_s"] > 0 and len(study["training_seconds_per_seed"]) == 3


def test_intervals_are_the_seeds_t_intervals(study):
    per_seed = [np.array(study["per_seed"][str(s)]["win_rates"]) for s in study["seeds"]]
    agg = IntervalMatrix.over_seeds(per_seed)
    np.testing.assert_allclose(study["win_rates"], agg.mean, atol=1e-12)
    np.testing.assert_allclose(study["win_rates_ci_low"], agg.low, atol=1e-12)
    np.testing.assert_allclose(study["win_rates_ci_high"], agg.high, atol=1e-12)
    W = np.array(study["win_rates"])
    np.testing.assert_allclose(W + W.T, 1.0, atol=1e-12)


def test_findings_a_b_c_hold(study):
    betas = [b for b in study["betas"] if b < 1]
    best = max(betas, key=lambda b: cell(study, "win_rates", f"nash-md-pg(beta={b:g})", "rlhf"))
    name = f"nash-md-pg(beta={best:g})"
    assert cell(study, "win_rates_ci_low", name, "rlhf") > 0.5  # (a)
    assert cell(study, "win_rates", "nash-md-pg(beta=1)", "rlhf") < cell(study, "win_rates", name, "rlhf")  # (b)
    for m in study["methods"][1:]:  # (c)
        assert cell(study, "win_rates", m, "sft") > 0.5


def test_prediction_is_the_mean_of_its_seeds(study):
    pred = study["tabular_prediction"]
    tables = [np.array(v["win_rates"]) for v in pred["per_seed"].values()]
    assert len(tables) == 3
    np.testing.assert_allclose(np.triu(pred["win_rates"], 1), np.triu(np.mean(tables, axis=0), 1), atol=1e-12)
    errors = np.array([study["preference_model_error"]["per_seed"][k] for k in pred["per_seed"]])
    np.testing.assert_allclose(study["preference_model_error"]["mean"], errors.mean(axis=0), atol=1e-12)
    assert study["preference_model_error"]["max_abs"] == pytest.approx(np.abs(errors).max())
