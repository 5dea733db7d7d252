"""Figures: every Plotly figure, the colour palette and the report writers (the only layer that imports Plotly)."""
