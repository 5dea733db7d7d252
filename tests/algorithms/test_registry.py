"""The one registry: both families complete and runnable, one set of names, solver knowledge on the spec."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nlhf_core.algorithms import run_algorithm
from nlhf_core.algorithms.field import update_field
from nlhf_core.algorithms.nash_md import theorem_kl_bound
from nlhf_core.algorithms.registry import AlgorithmSpec, get_solver, list_solvers
from nlhf_core.errors import ParameterError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.presets import get_preset
from nlhf_core.params import ParamSpec
from nlhf_core.policy_gradient.registry import PolicyGradientSpec, get_pg_algorithm, pg_algorithms
from nlhf_core.registry import FAMILIES, get_algorithm, list_algorithms
from tests.helpers import one_sentence, random_matrix

ALL = list_algorithms()
TABULAR = [s.name for s in list_solvers()]
PG = [s.name for s in pg_algorithms()]
MIXERS = {"nash-md", "nash-ema", "omd", "egpo"}  # pi^(1 - eta tau) mu^(eta tau) in their update (Eq. 4)


# ----------------------------------------------------------------------------- entries and names
def test_every_entry_is_complete():
    assert {s.family for s in ALL} == set(FAMILIES)
    assert [s.name for s in ALL] == TABULAR + PG  # tabular first, then the parametric methods
    for s in ALL:
        assert re.fullmatch(r"[a-z][a-z0-9-]*", s.name)
        assert s.title and s.summary and s.citation and s.target and s.latex
        defaults = s.resolve_params({})
        assert set(defaults) == {p.name for p in s.params}
        info = s.as_dict()
        assert info["name"] == s.name and info["family"] == s.family and len(info["params"]) == len(s.params)
        if isinstance(s, AlgorithmSpec):
            assert s.update and s.iterate in ("last", "average") and s.queries_per_iteration >= 1
        else:
            assert isinstance(s, PolicyGradientSpec) and s.signal in ("preference", "reward")


def test_policy_gradient_methods_carry_the_language_models_names():
    assert PG == ["nash-md-pg", "nash-ema-pg", "self-play", "rlhf"]
    assert not set(PG) & set(TABULAR)


def test_former_names_resolve_but_are_listed_nowhere():
    assert get_algorithm("rlhf-pg").name == "rlhf"
    assert get_algorithm(" Self-Play-PG ").name == "self-play"
    assert get_pg_algorithm("rlhf-pg") is get_pg_algorithm("rlhf")
    listed = {s.name for s in ALL}
    assert "rlhf-pg" not in listed and "self-play-pg" not in listed
    assert all("rlhf-pg" not in str(s.as_dict()) for s in ALL)


def test_lookup_is_case_insensitive_and_family_aware():
    assert get_algorithm(" Nash-MD ").name == "nash-md"
    assert get_solver("nash-md") is get_algorithm("nash-md")
    with pytest.raises(
        ParameterError, match=r"rlhf is a policy-gradient method, not a tabular one; choose one of nash-md"
    ):
        get_solver("rlhf")
    with pytest.raises(ParameterError, match=r"nash-md is a tabular method, not a policy-gradient one") as err:
        get_pg_algorithm("nash-md")
    assert one_sentence(str(err.value))
    with pytest.raises(ParameterError, match=r"no policy-gradient method 'nash-xx'; choose one of nash-md-pg"):
        get_pg_algorithm("nash-xx")
    with pytest.raises(ParameterError, match=r"rlhf is a policy-gradient method"):
        run_algorithm("rlhf", get_preset("rock-paper-scissors"))
    with pytest.raises(ParameterError, match="no method family"):
        list_algorithms("lm")


def test_param_validation_converts_and_checks_ranges():
    p = ParamSpec("eta", 1.0, "Step size.", low=0.1, high=10)
    assert p.validate("2.5") == 2.5
    with pytest.raises(ParameterError, match=r"eta = 20 is outside its valid range \[0.1, 10\]; step size\."):
        p.validate(20)
    n = ParamSpec("k", 3, "Count.", kind="int", low=1, high=9)
    assert n.validate(4.0) == 4
    with pytest.raises(ParameterError, match="whole number"):
        n.validate(2.5)
    c = ParamSpec("mode", "a", "Mode.", kind="choice", choices=("a", "b"))
    assert c.validate(" B ") == "b"
    with pytest.raises(ParameterError, match=r"mode = 'c' is not one of a, b"):
        c.validate("c")
    half_open = ParamSpec("x", 1.0, "X.", low=0.0)
    with pytest.raises(ParameterError, match=r"x = inf is not a finite number; use a value in \[0, inf\]"):
        half_open.validate("inf")
    with pytest.raises(ValueError, match="kind"):
        ParamSpec("y", 1, "Y.", kind="bool")


def test_param_spec_as_dataclass_metadata():
    from dataclasses import dataclass, fields

    spec = ParamSpec("tau", 0.1, "KL strength.", low=1e-3, high=10.0, log_scale=True)

    @dataclass
    class Config:
        tau: float = spec.as_field()

    assert Config().tau == 0.1
    assert fields(Config)[0].metadata["param"] is spec


# ----------------------------------------------------------------------------- every entry runs
def _game(n: int) -> PreferenceGame:
    return PreferenceGame.from_matrix(random_matrix(n, seed=n, kind="sharp"))


@pytest.mark.parametrize("n", [3, 4, 9])
@pytest.mark.parametrize("name", TABULAR)
def test_every_tabular_solver_runs_on_games_of_several_sizes(name, n):
    game = _game(n)
    spec = get_solver(name)
    params = spec.resolve_params({})
    traj = run_algorithm(name, game, iterations=20, **params)
    assert traj.params == {**params, "iterations": 20}
    assert traj.final_policy.shape == (1, n)  # (C, n), C = 1 for a plain game
    assert np.all(traj.policies >= 0)
    np.testing.assert_allclose(traj.policies.sum(-1), 1.0, atol=1e-12)
    assert all(np.all(np.isfinite(v)) for v in traj.metrics.values())
    assert 1 <= traj.total_queries <= 20 * spec.queries_per_iteration  # best-response asks once


@pytest.mark.parametrize("n", [3, 4, 9])
@pytest.mark.parametrize("name", PG)
def test_every_policy_gradient_method_runs_on_games_of_several_sizes(name, n):
    from nlhf_core.policy_gradient.training import train_policy_gradient

    game = _game(n)
    spec = get_pg_algorithm(name)
    params = {**spec.resolve_params({}), "steps": 10, "batch_size": 8}
    run = train_policy_gradient(game, name, **params)
    assert run.params == params and run.algorithm is spec
    assert run.final_policy.shape == (1, n)
    np.testing.assert_allclose(run.trajectory.policies[0], np.full((1, n), 1 / n), atol=1e-15)  # starts at mu
    np.testing.assert_allclose(run.trajectory.policies.sum(-1), 1.0, atol=1e-12)
    assert all(np.all(np.isfinite(v)) for v in run.curves.values())


# ----------------------------------------------------------------------------- knowledge on the spec
def test_kl_bound_exists_exactly_for_nash_md_with_the_theorem_schedule():
    steps = np.array([0, 1, 5, 99])
    for s in ALL:
        for schedule in ("constant", "theorem"):
            params = {"schedule": schedule} if s.has_param("schedule") else {}
            bound = s.kl_bound(params, steps)
            if s.name == "nash-md" and schedule == "theorem":
                label, values = bound
                assert "Theorem 1" in label
                np.testing.assert_allclose(values, [np.inf, 8 / (0.1**2 * 2), 8 / (0.1**2 * 6), 8 / (0.1**2 * 100)])
            else:
                assert bound is None, s.name
    tau = 0.37
    bound = get_solver("nash-md").kl_bound({"schedule": "theorem", "tau": tau}, steps)
    np.testing.assert_array_equal(bound.values, theorem_kl_bound(tau, steps))


def test_the_bound_the_spec_gives_holds_along_a_run():
    spec, game = get_solver("nash-md"), get_preset("biased-cycle")
    params = {"tau": 0.2, "schedule": "theorem"}
    traj = run_algorithm("nash-md", game, iterations=400, record_every=1, **params)
    assert np.all(traj.metrics["kl_to_equilibrium"] <= spec.kl_bound(params, traj.steps).values)


@pytest.mark.parametrize("name", TABULAR)
def test_mixture_weight_is_eta_tau_and_is_the_weight_the_solver_mixes_with(name):
    """With all-tie preferences P = 1/2 the signal is constant, so one step of a mixing solver is
    exactly the geometric mixture pi^(1 - w) mu^w with the w the spec reports."""
    spec = get_solver(name)
    params = spec.resolve_params({k: v for k, v in {"tau": 0.4, "eta": 1.5}.items() if spec.has_param(k)})
    weight = spec.mixture_weight(params)
    if name not in MIXERS:
        assert weight is None
        return
    assert weight == pytest.approx(1.5 * 0.4)
    ties = PreferenceGame.from_matrix(np.full((4, 4), 0.5))
    pi, mu = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.4, 0.3, 0.2, 0.1])
    got = run_algorithm(name, ties, iterations=1, init=pi, reference=mu, **params).last_policies[1, 0]
    mix = pi ** (1 - weight) * mu**weight
    np.testing.assert_allclose(got, mix / mix.sum(), rtol=1e-12)


def test_mixture_weight_is_none_under_a_step_schedule_and_arrays_work():
    nash_md = get_solver("nash-md")
    assert nash_md.mixture_weight({"tau": 0.5, "eta": 4.0, "schedule": "theorem"}) is None
    etas, taus = np.array([1.0, 3.0]), np.array([0.5, 0.5])
    np.testing.assert_allclose(nash_md.mixture_weight({"eta": etas, "tau": taus}), [0.5, 1.5])


@pytest.mark.parametrize("name", [n for n in TABULAR if get_solver(n).has_param("eta")])
def test_max_eta_is_where_the_solver_starts_refusing(name):
    spec, game, tau = get_solver(name), get_preset("rock-paper-scissors"), 0.5
    cap = spec.max_eta(tau)
    if name in MIXERS:
        assert cap == 2.0
        run_algorithm(name, game, iterations=2, tau=tau, eta=cap)
        with pytest.raises(ParameterError, match=r"eta × tau = 1.1 exceeds 1"):
            run_algorithm(name, game, iterations=2, tau=tau, eta=1.1 * cap)
    else:
        assert cap is None
        high = min(spec.param("eta").high, 3.0)
        run_algorithm(name, game, iterations=2, **({"tau": tau} if spec.has_param("tau") else {}), eta=high)


def test_defaults_for_tau_lower_the_step_only_where_needed():
    egpo = get_solver("egpo")  # default eta = 2
    assert egpo.defaults_for_tau(1.0) == {"tau": 1.0, "eta": 1.0}
    assert egpo.defaults_for_tau(0.1) == {"tau": 0.1, "eta": 2.0}
    assert get_solver("nash-mp").defaults_for_tau(1.0) == {"tau": 1.0, "eta": 2.0}  # proximal: no cap
    assert get_solver("mwu").defaults_for_tau(1.0) == {"eta": 0.1}  # no tau
    for s in list_solvers():
        run_algorithm(s.name, get_preset("biased-cycle"), iterations=3, **s.defaults_for_tau(5.0))


def test_frozen_for_field_turns_the_theorem_schedule_into_a_constant_step():
    spec = get_solver("nash-md")
    frozen = spec.frozen_for_field({"tau": 0.5, "eta": 4.0, "schedule": "theorem"})
    assert frozen == {"tau": 0.5, "eta": 2.0, "schedule": "constant"}
    assert spec.frozen_for_field({"eta": 0.3}) == {"tau": 0.1, "eta": 0.3, "schedule": "constant"}
    assert get_solver("omd").frozen_for_field({}) == get_solver("omd").resolve_params({})
    game = get_preset("biased-cycle")
    points = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    field = update_field("nash-md", game, points, tau=0.5, eta=1.0, schedule="theorem")
    for point, moved in zip(points, field, strict=True):
        step = run_algorithm("nash-md", game, iterations=1, init=point, tau=0.5, eta=1.0).last_policies[1, 0]
        np.testing.assert_allclose(moved, step, rtol=1e-12)


def test_policy_gradient_mixture_weight_is_beta_and_matches_tabular_nash_md():
    """Nash-MD-PG's alternative pi^(1-beta) mu^beta mixes like tabular Nash-MD with eta tau = beta."""
    pg, tab = get_pg_algorithm("nash-md-pg"), get_solver("nash-md")
    params = pg.resolve_params({"beta": 0.25, "tau": 0.1})
    assert pg.mixture_weight(params) == 0.25
    assert tab.mixture_weight({"eta": 0.25 / 0.1, "tau": 0.1}) == pytest.approx(pg.mixture_weight(params))
    assert pg.mixture_weight({**params, "beta_schedule": "linear"}) is None
    for name in ("nash-ema-pg", "self-play", "rlhf"):
        assert get_pg_algorithm(name).mixture_weight(get_pg_algorithm(name).resolve_params({})) is None
    assert all(s.kl_bound(s.resolve_params({}), np.arange(3)) is None for s in pg_algorithms())
