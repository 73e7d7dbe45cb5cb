"""Figures the reliability tests record for RELIABILITY.md (printed at the end of the run).

Each test records what it actually exercised (cycles, faults the simulator injected, kills that
landed, inputs tried, rows lost), so the document quotes measured numbers, not intentions.
Set OPINION_RELIABILITY_FIGURES=path to also get them as one JSON file.

The suite runs in pytest-xdist workers: each worker spools its figures to a file in the
directory the controlling process names in SPOOL_ENV, and the controller merges them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FIGURES: dict[str, dict[str, Any]] = {}
SPOOL_ENV = "OPINION_FIGURES_SPOOL"


def record(name: str, **values: Any) -> None:
    """Merge ``values`` into the figures of ``name`` (later values win)."""
    FIGURES.setdefault(name, {}).update(values)


def spool(worker: str) -> None:
    """Write this worker's figures where the controller will find them."""
    directory = os.environ.get(SPOOL_ENV, "").strip()
    if directory and FIGURES:
        (Path(directory) / f"{worker}.json").write_text(json.dumps(FIGURES, sort_keys=True))


def _gathered() -> dict[str, dict[str, Any]]:
    merged = {name: dict(values) for name, values in FIGURES.items()}
    directory = os.environ.get(SPOOL_ENV, "").strip()
    if directory:
        for path in sorted(Path(directory).glob("*.json")):
            for name, values in json.loads(path.read_text()).items():
                merged.setdefault(name, {}).update(values)
    return merged


def dump() -> list[str]:
    """One JSON line per figure set, sorted by name; also written to the env-named file."""
    figures = _gathered()
    lines = [
        json.dumps({"figures": name, **figures[name]}, sort_keys=True) for name in sorted(figures)
    ]
    target = os.environ.get("OPINION_RELIABILITY_FIGURES", "").strip()
    if target and figures:
        Path(target).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return lines
