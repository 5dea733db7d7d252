"""Text cells of exported CSV files that a spreadsheet cannot run as formulas, read back losslessly.

Spreadsheets (Excel, LibreOffice, Google Sheets) evaluate a cell whose text starts with ``=``,
``+``, ``-`` or ``@`` (and some treat a leading tab or carriage return the same way) as a formula,
so a response label such as ``=HYPERLINK("http://evil", "click")`` in a downloaded CSV would run
when the file is opened (OWASP, "CSV injection"). Every text cell the library writes goes through
:func:`escape_cell`, which puts one apostrophe in front of such a cell — the spreadsheets' own
"this is text" mark — and every reader of those files undoes it with :func:`unescape_cell`.

The rule is chosen so that reading gives back exactly what was written:

* ``escape_cell(s)`` prefixes ``'`` when ``s`` starts with a formula character, or when ``s``
  already starts with ``'`` followed by a formula character or another ``'`` (so that the reader
  cannot mistake a genuine leading apostrophe for our mark);
* ``unescape_cell(t)`` drops one leading ``'`` exactly when it is followed by a formula character
  or by ``'``.

Hence ``unescape_cell(escape_cell(s)) == s`` for every string, and text that never needed the
mark (``'quoted``, ``plain``) is written and read unchanged, as files written before this rule
were. Numbers are written by the callers with ``repr`` and are not text cells.
"""

from __future__ import annotations

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = frozenset("=+-@\t\r")
#: The mark that tells a spreadsheet (and :func:`unescape_cell`) that the cell is text.
TEXT_MARK = "'"


def unescape_cell(text: str) -> str:
    """The cell's original text: one leading apostrophe dropped where :func:`escape_cell` put it.

    Args:
        text: a cell as read from the CSV file.

    Returns:
        ``text[1:]`` when ``text`` starts with ``'`` followed by a formula character or ``'``,
        otherwise ``text`` unchanged.
    """
    if len(text) >= 2 and text[0] == TEXT_MARK and (text[1] in FORMULA_STARTS or text[1] == TEXT_MARK):
        return text[1:]
    return text


def escape_cell(text: str) -> str:
    """The cell to write for ``text``: never starts with a formula character, and reads back as ``text``.

    Args:
        text: a label, context or group name.

    Returns:
        ``"'" + text`` when ``text`` starts with one of ``= + - @``, a tab or a carriage return, or
        when :func:`unescape_cell` would otherwise change it; ``text`` unchanged otherwise.
    """
    if text[:1] in FORMULA_STARTS or unescape_cell(text) != text:
        return TEXT_MARK + text
    return text
