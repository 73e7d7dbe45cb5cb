"""Parse and validate the whale registry file.

The file is CSV with the header ``address,label,tags``; ``tags`` is optional and separated by
``;``. Blank lines and lines starting with ``#`` are ignored. It is read at the start of every
sync, so edits take effect on the next run without restarting anything.

A file with any bad line is rejected whole (nothing is synced from a half-valid registry), and
the error lists every bad line by number.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from opinion_pipeline.errors import UserFacingError

ADDRESS_PATTERN = re.compile(r"^0x[0-9a-fA-F]{40}$")
HEADER = ("address", "label", "tags")
MAX_LABEL_LENGTH = 200


class WhaleRegistryError(UserFacingError, ValueError):
    """The registry file is missing or has bad lines; the message names each one."""


@dataclass(frozen=True)
class Whale:
    address: str  # normalised: lowercase 0x + 40 hex
    label: str
    tags: tuple[str, ...] = field(default_factory=tuple)


def normalise_address(raw: str) -> str | None:
    """Return the lowercase form of a 0x + 40 hex address, or None if it is not one."""
    candidate = raw.strip()
    return candidate.lower() if ADDRESS_PATTERN.match(candidate) else None


def _content_lines(text: str) -> list[tuple[int, str]]:
    """Lines that carry data, with their 1-based line numbers in the file."""
    return [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _parse_row(number: int, cells: list[str]) -> tuple[Whale | None, str | None]:
    if len(cells) < 2 or len(cells) > 3:
        return (
            None,
            f"line {number}: expected 2 or 3 columns (address,label,tags), got {len(cells)}",
        )
    address = normalise_address(cells[0])
    if address is None:
        return None, f"line {number}: {cells[0].strip()!r} is not an address (0x + 40 hex digits)"
    label = cells[1].strip()
    if not label:
        return None, f"line {number}: the label is empty"
    if len(label) > MAX_LABEL_LENGTH:
        return None, f"line {number}: the label is longer than {MAX_LABEL_LENGTH} characters"
    tags_cell = cells[2] if len(cells) == 3 else ""
    tags = tuple(tag.strip() for tag in tags_cell.split(";") if tag.strip())
    return Whale(address=address, label=label, tags=tags), None


def parse_whales(text: str, *, source: str = "whales file") -> list[Whale]:
    """Parse registry text; raise WhaleRegistryError naming every bad line."""
    lines = _content_lines(text)
    if not lines:
        return []
    header_number, header_line = lines[0]
    header = tuple(cell.strip().lower() for cell in next(csv.reader([header_line])))
    if header not in (HEADER, HEADER[:2]):
        raise WhaleRegistryError(
            f"{source}: line {header_number}: expected the header 'address,label,tags', "
            f"got {header_line.strip()!r}"
        )
    whales: list[Whale] = []
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    for number, line in lines[1:]:
        cells = next(csv.reader(io.StringIO(line)), [])
        whale, problem = _parse_row(number, cells)
        if problem:
            problems.append(problem)
            continue
        assert whale is not None
        if whale.address in first_seen:
            problems.append(
                f"line {number}: duplicate address {whale.address} "
                f"(first on line {first_seen[whale.address]})"
            )
            continue
        first_seen[whale.address] = number
        whales.append(whale)
    if problems:
        raise WhaleRegistryError(
            f"{source} has {len(problems)} bad line(s):\n" + "\n".join(problems)
        )
    return whales


def load_whales(path: Path) -> list[Whale]:
    """Read and parse the registry at ``path`` (OPINION_WHALES_FILE)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WhaleRegistryError(
            f"whale registry {path} does not exist: create it (header 'address,label,tags') "
            "or point OPINION_WHALES_FILE at one"
        ) from None
    except UnicodeDecodeError as error:
        raise WhaleRegistryError(f"whale registry {path} is not UTF-8 text: {error}") from None
    return parse_whales(text, source=str(path))
