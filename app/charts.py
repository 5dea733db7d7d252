"""Every chart of the app goes through :func:`chart`: one Plotly config, no per-rerun re-validation.

``st.plotly_chart`` turns a dict into a validated ``plotly.graph_objects.Figure`` each time the
script runs; for the Playground's animations (about 120 frames) that is ~130 ms of server CPU per
chart per rerun — most of a rerun's cost, and it multiplies with every student in a classroom.
:func:`nlhf_core.viz.checked_figure` wraps the figure dicts of ``nlhf_core.viz`` (each builder's
output is validated once, in ``tests/viz``) so Streamlit only serializes them. The config is
:func:`nlhf_core.viz.export_config`: the toolbar's camera button saves a 1600 × 900 PNG with the
figure's title. The theme is Streamlit's (light or dark), whose colours the palette is chosen for.
"""

from __future__ import annotations

import streamlit as st

from nlhf_core.viz import FigureSpec, checked_figure, export_config


def chart(spec: FigureSpec, key: str) -> None:
    """Draw a figure dict from ``nlhf_core.viz`` with the app's export config and theme.

    Args:
        spec: The figure dict.
        key: The chart's widget key (also names its PNG download).
    """
    st.plotly_chart(checked_figure(spec), key=key, config=export_config(key), theme="streamlit")
