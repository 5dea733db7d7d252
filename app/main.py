"""NLHF Explorer's navigation and pages; `make app` serves it behind the host guard (`app/serve.py`)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # `streamlit run app/main.py` puts app/ first; the pages import app.*
    sys.path.insert(0, str(HERE.parent))

from app.admission import release as release_compute_slot  # noqa: E402
from app.sidebar import render_share_box, render_sidebar  # noqa: E402
from app.state import init_state, sync_url  # noqa: E402

st.set_page_config(page_title="NLHF Explorer", page_icon="⚖️", layout="wide")

PAGES = [
    st.Page(
        str(HERE / "app_pages" / "playground.py"),
        title="Playground",
        icon=":material/casino:",
        url_path="playground",
        default=True,
    ),
    st.Page(
        str(HERE / "app_pages" / "nlhf_vs_rlhf.py"),
        title="NLHF vs RLHF",
        icon=":material/balance:",
        url_path="nlhf-vs-rlhf",
    ),
    st.Page(
        str(HERE / "app_pages" / "feedback_lab.py"), title="Feedback lab", icon=":material/groups:", url_path="feedback"
    ),
    st.Page(str(HERE / "app_pages" / "lm_lab.py"), title="LM lab", icon=":material/smart_toy:", url_path="lm-lab"),
    st.Page(str(HERE / "app_pages" / "race.py"), title="Solver race", icon=":material/sports_score:", url_path="race"),
    st.Page(str(HERE / "app_pages" / "sweeps.py"), title="Sweeps", icon=":material/grid_on:", url_path="sweeps"),
    st.Page(str(HERE / "app_pages" / "learn.py"), title="Learn", icon=":material/school:", url_path="learn"),
]

init_state()
navigation = st.navigation(PAGES)
render_sidebar()
try:
    navigation.run()
finally:
    release_compute_slot()  # a heavy request's slot (app/admission.py) ends with its script run
    sync_url()
render_share_box()
