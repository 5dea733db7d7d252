"""The "Paper's comparison" page (issue 16) with `streamlit.testing.v1.AppTest`: what it draws is the core's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlhf_core.games.presets import get_preset
from nlhf_core.study import beta_curve, paper_findings, run_tabular_study, tabular_settings
from nlhf_core.viz.palette import colour_of
from tests.test_app import DISPLAY, figures, fresh, shown, trace

PAGE = "app_pages/paper_comparison.py"
MU = [0.05, 0.05, 0.7, 0.2]


def open_page(**query: str):
    at = fresh(query)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def core(tau: float = 0.1, rlhf_tau: float = 0.3, pairs: int = 10_000, seeds: int = 20, noise: float = 0.0):
    s = tabular_settings(
        get_preset("paper-comparison"), MU, tau=tau, rlhf_tau=rlhf_tau, betas=[0.125, 0.25, 0.5, 0.75], pairs=pairs,
        noise=noise, seeds=range(seeds),
    )  # fmt: skip
    grid = sorted({*np.linspace(0, 1, 21).round(6), *s.betas})
    return run_tabular_study(s), beta_curve(s, grid)


@pytest.fixture(scope="module")
def page():
    return open_page()


def test_page_loads_with_the_curve_the_table_and_the_policies(page):
    assert not page.error
    titles = [f["layout"].get("title", {}).get("text", "") for f in figures(page)]
    assert any("self-play (β = 0)" in t for t in titles)  # the beta curve
    assert any("Win rate of row vs column" in t for t in titles)  # the table (finite data)
    assert any("Exact win rate" in t for t in titles)
    assert any("What each method deploys" in t for t in titles)


def test_numbers_are_the_cores(page):
    table, curve = core()
    figs = {f["layout"]["title"]["text"]: f for f in figures(page)}
    beta = next(f for t, f in figs.items() if "self-play (β = 0)" in t)
    np.testing.assert_allclose(trace(beta, "vs rlhf (exact)")["y"], curve.exact_vs_rlhf, **DISPLAY)
    np.testing.assert_allclose(trace(beta, "vs self-play (exact)")["y"], curve.exact_vs_self_play, **DISPLAY)
    np.testing.assert_allclose(beta["data"][0]["y"][: len(curve.betas)], curve.band("rlhf")[1], **DISPLAY)
    exact = next(f for t, f in figs.items() if "Exact win rate" in t)
    np.testing.assert_allclose(exact["data"][0]["z"], table.exact, **DISPLAY)
    mean = next(f for t, f in figs.items() if t.startswith("Win rate of row vs column"))
    np.testing.assert_allclose(mean["data"][0]["z"], table.mean, **DISPLAY)
    bars = next(f for t, f in figs.items() if "What each method deploys" in t)
    np.testing.assert_allclose(trace(bars, "rlhf")["y"], table.exact_policies["rlhf"][0], **DISPLAY)
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["(a) β = 0.5 vs RLHF"] == f"{table.win_rate('nash-md-pg(beta=0.5)', 'rlhf', 'exact'):.3f}"
    assert metrics["(b) self-play vs RLHF"] == "0.502"
    text = " ".join(m.value for m in page.markdown)
    assert text.count("(holds exactly") == 3 and "of 20 seeds with N = 10,000" in text
    held = sum(paper_findings(W, table.methods, table.settings.betas).all for W in table.per_seed)
    assert f"All three hold in {held} of 20 seeds" in text


def test_the_language_model_study_of_this_game_is_drawn_on_the_curve(page):
    path = Path(__file__).resolve().parents[1] / "docs/study/paper-comparison/study.json"
    study = json.loads(path.read_text(encoding="utf-8"))
    assert study["resolved_config"]["task"]["game"] == "preset:paper-comparison"
    beta = figures(page)[0]
    names, W = study["methods"], np.array(study["win_rates"])
    for opponent in ("rlhf", "self-play"):
        marks = next(
            t for t in beta["data"] if t.get("mode") == "markers" and t["marker"]["color"] == colour_of(opponent)
        )
        rows = [m for m in names if (m == "self-play" or m.startswith("nash-md-pg(")) and m != opponent]
        betas = [0.0 if m == "self-play" else float(m[len("nash-md-pg(beta=") : -1]) for m in rows]
        assert marks["x"] == betas
        np.testing.assert_allclose(marks["y"], [W[names.index(m), names.index(opponent)] for m in rows], **DISPLAY)
    assert "is not drawn" not in " ".join(c.value for c in page.caption)


def test_a_control_change_redraws_with_the_cores_numbers():
    at = open_page()
    at.select_slider(key="pc_tau").set_value(0.2).run()
    assert not at.exception
    _, curve = core(tau=0.2)
    beta = figures(at)[0]
    np.testing.assert_allclose(trace(beta, "vs rlhf (exact)")["y"], curve.exact_vs_rlhf, **DISPLAY)
    assert "does **not** hold" in " ".join(m.value for m in at.markdown)  # tau = 0.2 is outside the window
    at.select_slider(key="pc_pairs").set_value(0).run()
    assert not at.exception and not any("range over seeds" in t["name"] for t in figures(at)[0]["data"])


def test_a_bad_reference_is_one_sentence_and_the_current_game_works():
    at = open_page()
    at.text_input(key="pc_mu_insightful|polished|stock|witty").set_value("0.5, 0, 0.5, 0").run()
    assert not at.exception
    assert any("positive weights" in e for e in shown(at.error))
    at.radio(key="pc_game").set_value("the current game").run()
    assert not at.exception and not at.error
    assert len(figures(at)) >= 3
