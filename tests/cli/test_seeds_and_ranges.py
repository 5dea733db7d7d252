"""Seeds and fractions out of range on the command line (issue 18, item 8): one sentence, exit 2, never an
internal error. Found by sweeping every numeric flag of every command over -1, -5, 0, 1e12, 1e23, nan, ±inf and
1e308; these were the values that reached NumPy unchecked."""

from __future__ import annotations

import pytest

from nlhf_core.feedback.dataset import ComparisonDataset
from nlhf_core.params import check_seed

from .runner import assert_refused, run_json

GAME = "preset:rock-paper-scissors"
SEED_SENTENCE = "seed = -1 is not a valid random seed; use a whole number >= 0, such as 0."


@pytest.mark.parametrize(
    "argv",
    [
        ["solve", GAME, "-a", "nash-md", "-n", "5", "--samples", "2", "--seed", "-1"],
        ["feedback", "simulate", GAME, "-n", "10", "--seed", "-1", "--out", "OUT/a.csv"],
        ["feedback", "fit", GAME, "DATA", "--seed", "-1"],
        ["feedback", "pipeline", GAME, "-n", "20", "--seed", "-1"],
    ],
)
def test_a_negative_seed_is_one_sentence(capsys, tmp_path, argv):
    data = tmp_path / "d.csv"
    run_json(capsys, "feedback", "simulate", GAME, "-n", "30", "--out", str(data))
    argv = [str(data) if a == "DATA" else a.replace("OUT", str(tmp_path)) for a in argv]
    assert_refused(capsys, argv, SEED_SENTENCE)
    assert not (tmp_path / "a.csv").exists()


def test_large_seeds_still_work(capsys):
    """NumPy takes any whole number >= 0, so the check refuses nothing it accepted before."""
    out = run_json(capsys, "solve", GAME, "-a", "nash-md", "-n", "5", "--samples", "2", "--seed", str(10**23))
    assert out["params"]["seed"] == 10**23


@pytest.mark.parametrize("held_out", ["nan", "inf", "1e308", "-1", "1", "2"])
def test_a_held_out_fraction_outside_0_1_is_one_sentence(capsys, tmp_path, held_out):
    data = tmp_path / "d.csv"
    run_json(capsys, "feedback", "simulate", GAME, "-n", "30", "--out", str(data))
    argv = ["feedback", "fit", GAME, str(data), "--held-out", held_out]
    assert_refused(capsys, argv, "must be the fraction in [0, 1) of the comparisons kept to score the models")


@pytest.mark.parametrize(("seed", "ok"), [(0, True), (7, True), (2**70, True), (-1, False), (1.5, False),
                                          (True, False), ("3", False), (None, False)])  # fmt: skip
def test_check_seed(seed, ok):
    if ok:
        assert check_seed(seed) == seed
    else:
        with pytest.raises(ValueError, match="is not a valid random seed"):
            check_seed(seed)


def test_split_keeps_the_held_out_fraction():
    data = ComparisonDataset.from_csv("context,first,second,winner,group\n" + ",a,b,a,all\n" * 10, ["a", "b"])
    train, test = data.split(0.2, seed=3)
    assert (len(train), len(test)) == (8, 2)
    assert len(data.split(0.0)[1]) == 0
