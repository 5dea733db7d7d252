"""The engine-neutral study result: Student-t intervals by hand, complementarity, and the four writers."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from nlhf_core.study import IntervalMatrix, StudyResult, t_interval, write_results

SEED_A = np.array([[0.5, 0.65, 0.9], [0.35, 0.5, 0.6], [0.1, 0.4, 0.5]])
SEED_B = np.array([[0.5, 0.75, 0.8], [0.25, 0.5, 0.7], [0.2, 0.3, 0.5]])


def test_interval_by_hand():
    agg = IntervalMatrix.over_seeds([SEED_A[:2, :2], SEED_B[:2, :2]])
    assert agg.mean[0, 1] == pytest.approx(0.70)
    # t_{0.975, 1} = 12.706; s = 0.0707; half = 12.706 * 0.0707 / sqrt(2) = 0.635 -> clipped to [0.065, 1]
    assert agg.low[0, 1] == pytest.approx(0.70 - 12.7062 * 0.05, abs=1e-3)
    assert agg.high[0, 1] == 1.0 and agg.low[1, 0] == 0.0


def test_interval_is_complementary_and_contains_the_mean():
    agg = IntervalMatrix.over_seeds([SEED_A, SEED_B])
    np.testing.assert_allclose(agg.mean + agg.mean.T, 1.0, atol=1e-15)
    np.testing.assert_allclose(agg.low + agg.high.T, 1.0, atol=1e-15)
    assert np.all(agg.low <= agg.mean) and np.all(agg.mean <= agg.high)
    np.testing.assert_array_equal(np.diag(agg.mean), 0.5)


def test_one_seed_has_a_zero_width_interval():
    mean, low, high = t_interval(np.array([[0.3, 0.6]]))
    np.testing.assert_array_equal(mean, [0.3, 0.6])
    np.testing.assert_array_equal(low, mean)
    np.testing.assert_array_equal(high, mean)


@pytest.fixture
def result() -> StudyResult:
    return StudyResult.from_seeds(
        ["sft", "a", "b"],
        [3, 5],
        [SEED_A, SEED_B],
        [SEED_B, SEED_A],
        parameters={"betas": [0.125]},
        config="smoke",
        resolved_config={"policy": {"tau": 0.1}},
        training_seconds_per_seed={"3": 1.5, "5": 2.0},
        wall_time_s=4.0,
    )


def test_to_dict_has_the_study_json_layout(result):
    data = result.to_dict()
    assert list(data) == [
        "methods", "win_rates", "win_rates_ci_low", "win_rates_ci_high", "win_rates_preference_model",
        "win_rates_preference_model_ci_low", "win_rates_preference_model_ci_high", "interval", "orientation",
        "seeds", "betas", "per_seed", "config", "resolved_config", "training_seconds_per_seed",
        "training_seconds", "wall_time_s",
    ]  # fmt: skip
    assert data["per_seed"]["5"] == {"win_rates": SEED_B.tolist(), "win_rates_preference_model": SEED_A.tolist()}
    assert data["training_seconds"] == 3.5
    np.testing.assert_allclose(data["win_rates"], (SEED_A + SEED_B) / 2, atol=1e-15)
    without = StudyResult.from_seeds(["a", "b"], [0], [SEED_A[:2, :2]]).to_dict()
    assert without["win_rates_preference_model"] is None
    assert without["per_seed"]["0"]["win_rates_preference_model"] is None


def test_writers_agree_with_the_json(tmp_path, result):
    data = write_results(tmp_path, result)
    assert json.loads((tmp_path / "study.json").read_text(encoding="utf-8")) == data
    with open(tmp_path / "study.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["row beats column", "sft", "a", "b"]
    np.testing.assert_array_equal([[float(v) for v in r[1:]] for r in rows[1:]], data["win_rates"])
    with open(tmp_path / "study_cells.csv", encoding="utf-8", newline="") as f:
        cells = list(csv.DictReader(f))
    assert len(cells) == 9 and list(cells[0])[-2:] == ["seed_3", "seed_5"]
    cell = cells[1]  # row sft, column a
    assert (cell["row"], cell["column"]) == ("sft", "a")
    assert float(cell["ci_high"]) == data["win_rates_ci_high"][0][1]
    assert float(cell["preference_model"]) == data["win_rates_preference_model"][0][1]
    assert (float(cell["seed_3"]), float(cell["seed_5"])) == (0.65, 0.75)
    md = (tmp_path / "study.md").read_text(encoding="utf-8")
    assert md.splitlines()[0] == "| row beats column | sft | a | b |"
    assert f"| **a** | {data['win_rates'][1][0]:.3f} [" in md and "—" in md
