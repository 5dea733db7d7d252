"""The typed config sections: every declared constraint rejects a bad value with its one sentence.

The bad values are derived from the declarations themselves (each finite bound of an
:class:`Interval`, a string outside :class:`Options`, hand-picked values for the named rules), so a
new field with a constraint is covered as soon as it is declared.
"""

from __future__ import annotations

import math

import pytest

from nlhf_core.errors import ParameterError
from nlhf_core.llm import config as cfgmod
from nlhf_core.llm import training_settings
from nlhf_core.llm.config_text import help_config
from nlhf_core.llm.settings import FieldSpec, Interval, Options, field_specs

#: Values each named rule must refuse.
RULE_VIOLATIONS = {
    cfgmod._method_list: [[], ["nash-md"], ["rlhf", "rlhf"], ["rlhf", 3]],
    cfgmod._answer_weights: ["zipf", [], [1.0, -1.0], [0.0], [1.0, math.inf]],
    cfgmod._words: [[], ["maybe", 3]],
    cfgmod._has_words: ["", "   "],
    training_settings.betas_pair: [[0.9], [0.9, 1.0], [-0.1, 0.9], [0.9, "x"]],
    training_settings.nonempty_strings: [[""], ["ok", 3]],
}
FIELDS = [(name, spec) for name, cls in cfgmod.SECTIONS.items() for spec in field_specs(cls)]


def _outside(interval: Interval, kind: type) -> list[float]:
    """A value beyond each finite bound: the bound itself when open, one unit past it when closed."""
    out = []
    if interval.low is not None:
        out.append(interval.low if interval.closed in ("right", "neither") else interval.low - 1)
    if interval.high is not None:
        out.append(interval.high if interval.closed in ("left", "neither") else interval.high + 1)
    return [kind(v) for v in out]


def _violations(spec: FieldSpec) -> list:
    check = spec.param.check
    if isinstance(check, Interval):
        return _outside(check, spec.kinds[0])
    if isinstance(check, Options):
        return ["not-an-option"]
    return RULE_VIOLATIONS.get(check, [])


@pytest.mark.parametrize(("section", "spec"), FIELDS, ids=[f"{s}.{f.name}" for s, f in FIELDS])
def test_every_constraint_rejects_a_bad_value_with_its_sentence(section, spec):
    cls = cfgmod.SECTIONS[section]
    bad_values = _violations(spec)
    if spec.param.check is not None:
        assert bad_values, f"no bad value known for {section}.{spec.name}"
    expect = spec.param.expect or spec.param.description
    for value in bad_values:
        with pytest.raises(ParameterError) as err:
            cls(**{spec.name: value})
        assert str(err.value) == f"Setting '{section}.{spec.name}' = {value!r} is out of range; it must be {expect}."
    cls(**{spec.name: spec.default})  # the default itself is valid


@pytest.mark.parametrize(("section", "spec"), FIELDS, ids=[f"{s}.{f.name}" for s, f in FIELDS])
def test_every_field_rejects_the_wrong_type(section, spec):
    wrong = {str: 3, int: "three", float: "three", list: 3.5, bool: "yes"}[spec.kinds[-1]]
    names = " or ".join("number" if k is float else k.__name__ for k in spec.kinds)
    with pytest.raises(ParameterError) as err:
        cfgmod.SECTIONS[section](**{spec.name: wrong})
    assert str(err.value) == (
        f"Setting '{section}.{spec.name}' must be a {names}, not {wrong!r}; see `nlhf train --help-config`."
    )
    if int in spec.kinds or float in spec.kinds:  # a boolean is never a number
        with pytest.raises(ParameterError, match="must be a"):
            cfgmod.SECTIONS[section](**{spec.name: True})


def test_numbers_are_coerced_and_must_be_finite():
    assert cfgmod.PolicyConfig(tau=1).tau == 1.0 and isinstance(cfgmod.PolicyConfig(tau=1).tau, float)
    with pytest.raises(ParameterError, match=r"^Setting 'policy\.tau' is nan; give a finite number\.$"):
        cfgmod.PolicyConfig(tau=math.nan)


def test_rules_across_fields():
    with pytest.raises(ParameterError, match=r"'model\.n_embd' = 63 is not a multiple of 'model\.n_head' = 2"):
        cfgmod.ModelConfig(n_embd=63)
    with pytest.raises(ParameterError, match=r"^Setting 'preference_model\.n_embd' must be even"):
        cfgmod.PreferenceModelConfig(n_embd=33)
    with pytest.raises(ParameterError, match=r"'sft\.batch_size' = 64 is not a multiple of 'run\.shards' = 3"):
        cfgmod.TrainingConfig(run=cfgmod.RunConfig(shards=3))


def test_interval_bounds_open_and_closed():
    assert Interval(0, 1)(0) and Interval(0, 1)(1)
    assert not Interval(0, 1, closed="left")(1) and Interval(0, 1, closed="left")(0)
    assert not Interval(0, 1, closed="right")(0) and Interval(0, 1, closed="right")(1)
    assert not Interval(0, None, closed="neither")(0) and Interval(0, None, closed="neither")(1e9)
    assert Options(("a", "b"))("a") and not Options(("a", "b"))("c")


def test_updated_revalidates_and_differences_name_the_keys():
    base = cfgmod.load_config("smoke")
    changed = base.updated(run={"seed": 3}, policy={"beta": 0.5})
    assert (changed.run.seed, changed.policy.beta, base.run.seed) == (3, 0.5, 0)
    assert changed.differences(base) == ["run.seed", "policy.beta"]
    with pytest.raises(ParameterError, match=r"'policy\.beta' = 2\.0 is out of range"):
        base.updated(policy={"beta": 2})


def test_help_lists_every_key_once_with_its_default():
    lines = help_config().splitlines()
    assert [line.split(" = ")[0] for line in lines] == cfgmod.valid_keys()
    assert "policy.tau = 0.1    KL strength tau of the NLHF methods" in lines
    assert cfgmod.defaults() == cfgmod.TrainingConfig().to_dict()


def test_every_config_field_is_declared_by_the_one_param_spec_system():
    from dataclasses import fields

    from nlhf_core.params import ParamSpec

    for cls in cfgmod.SECTIONS.values():
        for f in fields(cls):
            spec = f.metadata["param"]
            assert isinstance(spec, ParamSpec) and spec.kind == "value" and spec.description


def test_a_value_spec_validates_with_its_constraint():
    from nlhf_core.params import Interval, ParamSpec

    spec = ParamSpec(
        "policy.tau", 0.1, "KL strength tau", kind="value", check=Interval(1e-3, 100), expect="in [0.001, 100]"
    )
    assert spec.validate(0.5) == 0.5
    with pytest.raises(ParameterError, match=r"^policy\.tau = 500 is out of range; it must be in \[0\.001, 100\]\.$"):
        spec.validate(500)
    assert spec.as_dict()["expect"] == "in [0.001, 100]"
