"""Figures the reliability tests record for RELIABILITY.md (printed at the end of the run).

Each test records what it actually exercised (cycles, faults the simulator injected, kills that
landed, inputs tried, rows lost), so the document quotes measured numbers, not intentions.
Set OPINION_RELIABILITY_FIGURES=path to also get them as one JSON file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FIGURES: dict[str, dict[str, Any]] = {}


def record(name: str, **values: Any) -> None:
    """Merge ``values`` into the figures of ``name`` (later values win)."""
    FIGURES.setdefault(name, {}).update(values)


def dump() -> list[str]:
    """One JSON line per figure set, sorted by name; also written to the env-named file."""
    lines = [
        json.dumps({"figures": name, **FIGURES[name]}, sort_keys=True) for name in sorted(FIGURES)
    ]
    target = os.environ.get("OPINION_RELIABILITY_FIGURES", "").strip()
    if target and FIGURES:
        Path(target).write_text(json.dumps(FIGURES, indent=2, sort_keys=True) + "\n")
    return lines
