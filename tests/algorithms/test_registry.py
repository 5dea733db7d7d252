"""The registry: every entry complete, parameters validated against their ranges."""

from __future__ import annotations

import re

import pytest

from nlhf_core.algorithms import get_algorithm, list_algorithms
from nlhf_core.algorithms.registry import ParamSpec
from nlhf_core.errors import ParameterError


def test_every_entry_is_complete():
    specs = list_algorithms()
    assert "nash-md" in {s.name for s in specs}
    for s in specs:
        assert re.fullmatch(r"[a-z][a-z0-9-]*", s.name)
        assert s.title and s.summary and s.update and s.citation and s.target
        assert s.iterate in ("last", "average")
        assert s.queries_per_iteration >= 1
        defaults = s.resolve_params({})
        assert set(defaults) == {p.name for p in s.params}
        info = s.as_dict()
        assert info["name"] == s.name and len(info["params"]) == len(s.params)


def test_param_validation_converts_and_checks_ranges():
    p = ParamSpec("eta", 1.0, "Step size.", low=0.1, high=10)
    assert p.validate("2.5") == 2.5
    with pytest.raises(ParameterError, match=r"eta = 20 is outside its valid range \[0.1, 10\]; step size\."):
        p.validate(20)
    n = ParamSpec("k", 3, "Count.", kind="int", low=1, high=9)
    assert n.validate(4.0) == 4
    with pytest.raises(ParameterError, match="whole number"):
        n.validate(2.5)


def test_lookup_is_case_insensitive():
    assert get_algorithm(" Nash-MD ").name == "nash-md"
