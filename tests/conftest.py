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


# Under `pytest -n 2 --dist loadgroup` (`make test`) the tests that start a Streamlit server or drive a real
# browser run one after another on one worker, so their waits never compete with each other, while the other
# worker runs the rest of the suite a file at a time (so a module's expensive fixture is built once).
SERVER_TEST_FILES = {"test_work_budget.py", "test_reliability.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("browser") is not None or item.path.name in SERVER_TEST_FILES:
            item.add_marker(pytest.mark.xdist_group("server"))
        else:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
