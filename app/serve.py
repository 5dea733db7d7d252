"""NLHF Explorer as an ASGI app behind the host guard: `streamlit run app/serve.py` (what `make app` runs).

Streamlit's ``st.App`` serves ``app/main.py`` (navigation and pages) with user middleware in front
of its own routes; :class:`app.host_guard.HostGuard` answers requests and websocket handshakes that
name an unknown host with 403 (DNS rebinding, issue 18). Every `streamlit run` option and
``.streamlit/config.toml`` apply as before.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # `streamlit run app/serve.py` puts app/ first; we import app.*
    sys.path.insert(0, str(HERE.parent))

from app.host_guard import HostGuard  # noqa: E402

app = st.App(HERE / "main.py", middleware=[Middleware(HostGuard)])
