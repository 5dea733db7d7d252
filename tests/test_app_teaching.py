"""What the pages teach (issue 15, Teaching and Markdown): every sentence's numbers come from the core."""

from __future__ import annotations

import numpy as np
import pytest

from app.teaching import core_text, is_tie, misfit_sentence, versus
from nlhf_core.algorithms import get_algorithm
from nlhf_core.baselines.bradley_terry import fit_bradley_terry
from nlhf_core.baselines.comparison import compare_solutions
from nlhf_core.games.presets import get_preset

from .app_helpers import figures, fresh, shown

GRID = 12  # app_pages/sweeps.py's settings per axis (a page script: not importable)


def rlhf_page(query: dict):
    at = fresh(query)
    at.switch_page("app_pages/nlhf_vs_rlhf.py").run()
    assert not at.exception
    return at


# ---------------------------------------------------------------------- who beats whom, in words
@pytest.mark.parametrize(
    ("p", "words"),
    [
        (0.5, "ties with"),
        (0.50004, "ties with"),  # 50.00% on screen: a tie, never "beats 50.00%"
        (0.49996, "ties with"),
        (0.5049, "beats B 50.49% of the time"),
        (0.25, "loses to B, which wins 75.00% of the time"),
    ],
)
def test_versus_says_tie_at_display_precision(p, words):
    assert words in versus("A", "B", p)
    assert is_tie(p) == (words == "ties with")


def test_headline_compares_rlhf_with_nlhf_at_the_same_tau():
    at = rlhf_page({"preset": "condorcet-winner"})
    expected = compare_solutions(get_preset("condorcet-winner"), 0.1, solvers=[])
    w = expected.win_rates
    reg, nash, rlhf = (expected.names.index(n) for n in ("regularized Nash", "Nash", "RLHF"))
    headline = shown(at.success)[0]
    assert headline.startswith("With the same KL strength τ = 0.1, NLHF's policy (the regularized Nash π*_τ)")
    assert f"beats the RLHF policy {w[reg, rlhf]:.2%}" in headline and f"{w[reg, rlhf]:.2%}" == "50.54%"
    assert f"The unregularized Nash equilibrium (τ → 0) beats RLHF {w[nash, rlhf]:.2%}" in headline
    assert any("NLHF's policy is the regularized Nash" in m.value for m in at.markdown)


def test_on_a_bradley_terry_game_the_reward_fits_and_the_headline_follows_the_numbers():
    at = rlhf_page({"preset": "bradley-terry"})
    assert any("The reward fits every pair" in m.value for m in at.markdown)
    expected = compare_solutions(get_preset("bradley-terry"), 0.1, solvers=[])
    reg, rlhf = expected.names.index("regularized Nash"), expected.names.index("RLHF")
    w = expected.win_rates[reg, rlhf]
    assert w < 0.5 and f"loses to the RLHF policy, which wins {1 - w:.2%}" in shown(at.success)[0]


def test_the_mechanism_names_the_pair_the_reward_gets_wrong():
    game = get_preset("condorcet-winner")
    predicted = fit_bradley_terry(game, "uniform").predicted()[0]
    sentence = misfit_sentence(game.labels, predicted, game.matrix)
    b, a = game.labels.index("b"), game.labels.index("a")
    assert predicted[b, a] > 0.5 > game.matrix[b, a]  # the reward flips this pair
    assert f"ranks **b** above **a**: it predicts σ(r(b) − r(a)) = {predicted[b, a]:.2%}" in sentence
    assert f"people prefer **a** to **b** {game.matrix[a, b]:.2%}" in sentence
    at = rlhf_page({"preset": "condorcet-winner"})
    assert sentence in [m.value for m in at.markdown]
    assert get_preset("condorcet-winner").story in [i.value for i in at.info]  # the game's story is on the page


def test_reference_sampling_is_explained_when_mu_is_uniform_and_dpo_coincidence_is_said():
    at = rlhf_page({"preset": "condorcet-winner"})
    assert at.radio(key="sampling").disabled
    assert any("μ is uniform, so both choices show the same pairs" in c.value for c in at.caption)
    assert any("The RLHF and DPO rows coincide" in c.value for c in at.caption)
    skewed = rlhf_page({"preset": "paper-three-annotators", "ref": "0.6,0.2,0.2"})
    assert not skewed.radio(key="sampling").disabled


# ---------------------------------------------------------------------- Markdown and numbers
def test_core_text_keeps_underscores_and_asterisks_literal():
    assert core_text("regularized Nash equilibrium pi*_tau") == "regularized Nash equilibrium π\\*\\_τ"
    assert core_text("pi ∝ mu exp(P pi_beta / tau)") == "π ∝ μ exp(P π\\_β / τ)"
    assert core_text("Nash mirror prox (Nash-MP)") == "Nash mirror prox (Nash-MP)"  # plain text stays searchable
    at = fresh()
    caption = next(c.value for c in at.caption if c.value.startswith("**"))
    assert core_text(get_algorithm("nash-md").target) in caption and "pi*_tau" not in caption


def test_tables_show_significant_digits_and_dashes_not_none():
    at = fresh({"alg": "nash-mp", "iters": "2000"})
    final = next(d for d in at.dataframe if "final value" in d.value.columns)
    assert '"final value": {"type_config": {"type": "number", "format": "%.4g"}}' in final.proto.columns
    at.switch_page("app_pages/race.py").run()
    at.multiselect(key="racers").set_value(["mwu", "nash-mp"]).run()
    table = at.dataframe[0].value
    column = next(c for c in table.columns if c.startswith("queries to"))
    assert "—" in list(table[column]) and "None" not in list(table[column])
    assert any(c.value.startswith("—: the solver did not reach") for c in at.caption)


def test_sweeps_text_matches_its_grid_and_a_solver_without_tau_is_a_line():
    at = fresh()
    at.switch_page("app_pages/sweeps.py").run()
    assert any(f"{GRID} × {GRID} sweep" in m.value for m in at.markdown)
    grid = figures(at)[0]["data"][0]
    assert len(grid["x"]) == GRID and len(grid["y"]) == GRID
    assert any(f"over a {GRID} × {GRID} grid" in c.value for c in at.caption)
    at.selectbox(key="sw_alg").set_value("mwu").run()
    line = figures(at)[0]
    assert line["data"][0]["type"] == "scatter" and len(line["data"][0]["x"]) == GRID
    assert line["layout"]["xaxis"]["title"] == "η (step size)" and line["layout"]["xaxis"]["type"] == "log"
    np.testing.assert_allclose(line["data"][0]["x"], np.geomspace(0.01, 10.0, GRID), rtol=1e-12)
