"""The sweep heat map: log10 colours, the value on hover, invalid settings blank."""

from __future__ import annotations

import numpy as np
import pytest

from nlhf_core.viz import sweep_heatmap


def test_sweep_heatmap_colours_log10_and_marks_invalid_cells():
    grid = np.array([[1e-3, np.nan], [0.1, 1.0]])
    spec = sweep_heatmap([0.1, 1.0], [0.01, 0.1], grid, "exploitability")
    trace = spec["data"][0]
    assert trace["z"][0][0] == pytest.approx(-3.0) and trace["z"][0][1] is None
    assert trace["text"][0] == ["0.001", "invalid"]
    assert spec["layout"]["title"]["text"] == "Final exploitability over (η, τ)"


def test_a_solver_without_tau_is_one_short_row():
    spec = sweep_heatmap([0.1, 1.0, 10.0], [None], np.array([[0.1, 0.2, 0.3]]), "kl_to_equilibrium")
    assert spec["data"][0]["y"] == ["—"] and spec["layout"]["height"] <= 260
    tall = sweep_heatmap([0.1], list(np.geomspace(0.01, 1, 12)), np.ones((12, 1)), "kl")
    assert tall["layout"]["height"] > spec["layout"]["height"]
