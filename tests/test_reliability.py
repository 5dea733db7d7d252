"""Reliability II (issue 18): messages, the server's settings, hostile hosts, uploads and the work budget."""

from __future__ import annotations

import pytest

from nlhf_core.algorithms.registry import ParamSpec, lower_first, short_number
from nlhf_core.errors import ParameterError
from nlhf_core.policy_gradient.registry import PG_ALGORITHMS, pg_params


# ---------------------------------------------------------------------- messages (item 9)
def test_out_of_range_messages_show_plain_numbers_and_keep_acronyms():
    steps = ParamSpec("steps", 1000, "Number of gradient steps", kind="int", low=1, high=200_000)
    with pytest.raises(ParameterError) as err:
        steps.validate(10**9)
    assert str(err.value) == "steps = 1000000000 is outside its valid range [1, 200000]; number of gradient steps."
    tau = next(p for p in pg_params(PG_ALGORITHMS["nash-md-pg"]) if p.name == "tau")
    with pytest.raises(ParameterError) as err:
        tau.validate(1e9)
    assert str(err.value) == "tau = 1e9 is outside its valid range [0.001, 1000]; KL-regularization strength."
    assert "e+" not in str(err.value) and "kL" not in str(err.value)
    assert [short_number(x) for x in (1e9, 2.5e-7, 0.001, 1000.0, 0.1)] == ["1e9", "2.5e-7", "0.001", "1000", "0.1"]
    assert lower_first("Step size") == "step size" and lower_first("KL strength") == "KL strength"
