"""Render UI markdown the way a CommonMark + tables renderer does, and check it is inert.

Dagster's UI renders ``MetadataValue.md`` as GitHub-flavoured markdown. markdown-it-py with the
table rule is the same grammar for what matters here: a cell's ``|`` or newline that is not
escaped would split a row, ``[x](...)`` would become a link, raw HTML would become tags.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

TABLE_TAGS = {"table", "thead", "tbody", "tr", "th", "td"}  # anything else is live markup
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Table(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def render_table(markdown: str) -> _Table:
    rendered = MarkdownIt("commonmark").enable("table").render(markdown)
    table = _Table()
    table.feed(rendered)
    return table


def shown_as(text: str) -> str:
    """What a cell must display for ``text``: control characters as visible \\xNN escapes."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _unescaped_pipes(line: str) -> int:
    """Cell separators in a table line: ``|`` not escaped by a backslash (``\\|`` is one)."""
    count, escaped = 0, False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            count += 1
    return count


def problems(markdown: str, columns: int, rows: int) -> list[str]:
    """Why this markdown table is not inert, or [] (shape, live elements, attributes).

    Renderers drop surplus cells silently, so separators are also counted in the source.
    """
    table = render_table(markdown)
    found = [
        f"line {number} has {_unescaped_pipes(line) - 1} cells"
        for number, line in enumerate(markdown.split("\n"))  # CommonMark's line ends only
        if line.startswith("|") and _unescaped_pipes(line) != columns + 1
    ]
    if len(table.rows) != rows + 1:
        found.append(f"{len(table.rows) - 1} rows rendered, {rows} expected")
    found += [f"row {i} has {len(r)} cells" for i, r in enumerate(table.rows) if len(r) != columns]
    live = sorted(set(table.tags) - TABLE_TAGS)
    if live:
        found.append(f"live elements: {live}")
    if table.attributes:
        found.append(f"attributes: {table.attributes}")
    return found


def cell_texts(markdown: str) -> list[str]:
    """The text each body cell displays (entities decoded by the parser)."""
    return [cell for row in render_table(markdown).rows[1:] for cell in row]
