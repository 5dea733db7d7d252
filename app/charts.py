"""Hand Plotly figure specs to Streamlit without re-validating them on every script run.

``st.plotly_chart`` turns a dict into a validated ``plotly.graph_objects.Figure`` each time the
script runs; for the Playground's animations (about 120 frames) that is ~130 ms of server CPU per
chart per rerun — most of a rerun's cost, and it multiplies with every student in a classroom.
A figure object skips that step (Streamlit only calls its ``to_dict``), so :func:`chart` wraps our
spec in one. The specs come from ``nlhf_core.viz.plotting`` and each builder's output is validated by
``plotly.graph_objects.Figure`` in ``tests/test_plotting.py``, once, where a mistake would fail a test.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st


class _CheckedSpec(go.Figure):
    """A ``go.Figure`` that only carries an already-validated spec (no per-trace objects are built)."""

    def __init__(self, spec: dict[str, Any]) -> None:  # skips Figure.__init__ on purpose: no trace objects
        self._spec = spec

    def to_dict(self) -> dict[str, Any]:
        return self._spec


def chart(spec: dict[str, Any] | go.Figure, key: str, **kwargs: Any) -> None:
    """``st.plotly_chart`` for a spec from ``nlhf_core.viz.plotting`` (dicts skip re-validation)."""
    figure = _CheckedSpec(spec) if isinstance(spec, dict) else spec
    st.plotly_chart(figure, key=key, **kwargs)
