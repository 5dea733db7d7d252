"""NLHF Explorer: `streamlit run app/main.py` (or `make app`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="NLHF Explorer", page_icon="⚖️", layout="wide")

pages = [
    st.Page(str(HERE / "app_pages" / "playground.py"), title="Playground", icon="🎲", default=True),
]
st.navigation(pages).run()
