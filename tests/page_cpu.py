"""Run one request on one app page (AppTest) and print its CPU time as JSON: a helper of test_reliability.

    python -m tests.page_cpu '{"page": "race", "widgets": [["select_slider", "race_budget", 20000]], "n": 120}'

The page is first loaded at its defaults (with URL parameters ``query``, e.g. a preset); the request is
then what a user's controls send: widget values (``widgets``: ``[kind, key, value]`` triples). The game
is the preset, or a seeded random game on ``n`` responses carried by the link. Only the request's run is
timed, in CPU seconds of this process; the caller sets one BLAS thread (environment) so that the figure
is one core's work.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.links import game_to_link

APP = str(Path(__file__).resolve().parents[1] / "app" / "main.py")


def link_game(n: int) -> str:
    """A seeded random game on ``n`` responses with two-decimal cells (a link short enough for a URL)."""
    upper = np.triu(np.random.default_rng(n).uniform(size=(n, n)).round(2), 1)
    P = upper + np.tril(1.0 - upper.T, -1)
    np.fill_diagonal(P, 0.5)
    return game_to_link(PreferenceGame.from_matrix(P, [f"y{i}" for i in range(n)]))


def run(request: dict) -> dict:
    """Open the page, apply the request, time the run that computes it."""
    at = AppTest.from_file(APP, default_timeout=600)
    if request.get("n"):
        at.query_params["game"] = link_game(request["n"])
    for key, value in request.get("query", {}).items():
        at.query_params[key] = value
    at.run()  # the link is opened on the default page (which follows its parameters)
    at.switch_page(f"app_pages/{request['page']}.py").run()  # the page's first load, at its defaults
    for kind, key, value in request.get("widgets", []):  # then the user's settings ("run": a click's rerun)
        if kind == "run":
            at.run()
        else:
            getattr(at, kind)(key=key).set_value(value)
    start = time.process_time()
    at.run()
    cpu = time.process_time() - start
    return {
        "cpu": round(cpu, 3),
        "refusals": [e.value for e in at.error if "of computing" in e.value],
        "errors": [e.value for e in at.error if "of computing" not in e.value],
        "exceptions": [str(e.value) for e in at.exception],
        "charts": len(at.get("plotly_chart")),
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
