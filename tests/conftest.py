"""Shared fixtures and Hypothesis strategies for the test suite."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from nlhf_core.games.game import PreferenceGame

# The default profile is derandomized so CI sees the same examples every run; the
# "thorough" profile explores new random examples (HYPOTHESIS_PROFILE=thorough).
settings.register_profile(
    "default",
    deadline=None,
    max_examples=40,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def rps() -> PreferenceGame:
    return PreferenceGame.from_upper_triangle([0.0, 1.0, 0.0], ["rock", "paper", "scissors"])
