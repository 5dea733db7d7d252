"""NLHF Explorer's navigation and pages; `make app` serves it behind the host guard (`app/serve.py`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import tour
from app.actions import pending_action
from app.admission import release as release_compute_slot
from app.links import begin_run, refused_values
from app.sidebar import render_notices, render_share_box, render_sidebar
from app.state import forget_session, init_state, opened_by_history, sync_url

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="NLHF Explorer", page_icon="⚖️", layout="wide")

PLAYGROUND = st.Page(
    str(HERE / "app_pages" / "playground.py"),
    title="Playground",
    icon=":material/casino:",
    url_path="home",  # served at the root; `/playground` reaches it through the alias below
    default=True,
)


def _playground_alias() -> None:
    """``/playground`` typed by hand: the Playground (served at the root), with the link's parameters."""
    params = st.query_params
    st.switch_page(PLAYGROUND, query_params=[(k, v) for k in params for v in params.get_all(k)])


PAGES = [
    PLAYGROUND,
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
    st.Page(_playground_alias, title="Playground", url_path="playground", visibility="hidden"),
]

action = pending_action(opened_by_history())
if action == "reset":  # "Start over": the session is forgotten and starts again from an empty link
    forget_session()
begin_run()
init_state()
if action is not None:
    tour.take(action)
navigation = st.navigation(PAGES)
render_sidebar()
tour.render_banner(navigation.title)
try:
    navigation.run()
finally:
    release_compute_slot()  # a heavy request's slot (app/admission.py) ends with its script run
    sync_url()
    st.session_state.notices.extend(refused_values())
render_notices()
render_share_box(navigation.url_path, [page.url_path for page in PAGES])
