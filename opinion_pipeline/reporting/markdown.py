"""Markdown tables for UI metadata, safe for untrusted text (titles, labels, raw rows).

Every cell is escaped: HTML is neutralised, markdown punctuation is backslash-escaped, and
control characters and newlines become visible escapes, so a title such as ``| [x](javascript:)``
shows as text and never as a link, a new column or a new row.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

_MARKDOWN_SPECIALS = "\\`*_{}[]()#+-.!|~>"
MAX_CELL = 160


def escape_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    text = "".join(
        f"\\x{ord(char):02x}" if (ord(char) < 32 or ord(char) == 127) else char for char in text
    )
    text = html.escape(text, quote=False)  # quotes are inert in a cell; &#x27; would show
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in text)


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = [
        "| " + " | ".join(escape_cell(header) for header in headers) + " |",
        "|" + "---|" * len(headers),
    ]
    lines.extend("| " + " | ".join(escape_cell(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines)
