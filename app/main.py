"""NLHF Explorer's navigation and pages; `make app` serves it behind the host guard (`app/serve.py`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.admission import release as release_compute_slot
from app.sidebar import render_share_box, render_sidebar
from app.state import init_state, sync_url

HERE = Path(__file__).resolve().parent

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
    st.Page(
        str(HERE / "app_pages" / "paper_comparison.py"),
        title="Paper's comparison",
        icon=":material/table_chart:",
        url_path="paper-comparison",
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
