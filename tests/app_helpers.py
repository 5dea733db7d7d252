"""Shared helpers of the AppTest suites: start the app, read its charts, alerts and shared link."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app" / "main.py")
#: Charts carry 7 significant digits (what a chart can show); values are compared at that precision.
DISPLAY = dict(rtol=1e-6, atol=1e-9)


def fresh(query: dict | None = None, timeout: float = 90) -> AppTest:
    """A new session opened with ``query`` as its link's parameters (lists for repeated ones), run once."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def shown(elements) -> list[str]:
    """The text of alerts as a reader sees it (user-provided text is Markdown-escaped with backslashes)."""
    return [re.sub(r"\\(.)", r"\1", e.value) for e in elements]


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def trace(fig: dict, name: str) -> dict:
    return next(t for t in fig["data"] if t.get("name") == name)


def ternary_point(fig: dict, name: str) -> np.ndarray:
    t = trace(fig, name)
    return np.array([t["a"][0], t["b"][0], t["c"][0]])


def shared_link(at: AppTest) -> str:
    """The sidebar's "Link to exactly this view"."""
    return at.sidebar.code[-1].value


def link_query(link: str) -> dict[str, str | list[str]]:
    """A link's parameters as AppTest takes them (repeated parameters as lists), decoded."""
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(urlsplit(link).query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in query.items()}


def link_page(link: str) -> str:
    """The page path of a link ("" for the Playground at the root)."""
    return urlsplit(link).path.strip("/")
