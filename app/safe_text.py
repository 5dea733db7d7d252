"""User-provided text (labels, stories, file names inside messages) shown literally, never as markup."""

from __future__ import annotations

import re

# Markdown, Streamlit's LaTeX ($) and colored-text/emoji (:) syntax; HTML is never rendered by st.markdown.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:])")


def literal(text: object) -> str:
    """``text`` with every Markdown-special character backslash-escaped, so it reads exactly as typed."""
    return _SPECIAL.sub(r"\\\1", str(text))
