"""Learn: a guided tour in short steps, each opening the Playground (or another page) set up for it."""

from __future__ import annotations

import streamlit as st

from app import tour

st.title("Learn")
st.markdown("A short tour of the ideas behind NLHF. Each step opens a page set up to show it.")
for index, step in enumerate(tour.STEPS):
    with st.container(border=True):
        st.subheader(step["title"])
        st.markdown(step["text"])
        st.latex(step["latex"])
        tour.step_link(index, icon=":material/play_arrow:")
