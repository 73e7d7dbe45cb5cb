"""Validate every discovery source's rows with pandera and turn them into sightings.

Rejects (a bad address, an unparseable value, a row that is not an object) are kept with the
reason and go to the quarantine table; the valid rows of the same payload are used. The rank of
a row is its position in the list as sent, so a rejected row does not move the others up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from opinion_pipeline.defs.whale_candidates.tables import (
    CANDIDATE_SIGHTINGS,
    HOLDER_ENTRY,
    LEADERBOARD_ENTRY,
    REGISTRY_ENTRY,
)
from opinion_pipeline.validation.frames import Reject, validate_rows
from opinion_pipeline.validation.schema import payload_schema

SIGHTING_COLUMNS = CANDIDATE_SIGHTINGS.frame_columns
UNKNOWN_VALUES = ("", "0")  # the leaderboard sends these for real traders: unknown, not zero


@dataclass
class Sightings:
    """Valid sightings (SIGHTING_COLUMNS) and the rejects of one or more payloads."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[tuple[str | None, Reject]] = field(default_factory=list)
    unknown_fields: set[str] = field(default_factory=set)  # sent, documented nowhere: ignored

    def extend(self, other: Sightings) -> None:
        self.rows.extend(other.rows)
        self.rejects.extend(other.rejects)
        self.unknown_fields |= other.unknown_fields

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=SIGHTING_COLUMNS, dtype=object)


def _ranking_value(sent: str) -> str | None:
    return None if sent.strip() in UNKNOWN_VALUES or Decimal(sent) == 0 else sent


def _holding(value: float | int) -> str:
    """A JSON number as an exact decimal string (repr of a float is its shortest exact form)."""
    text = format(Decimal(repr(value)), "f")
    return text


def _tagged(rejects: list[Reject], where: str) -> list[tuple[str | None, Reject]]:
    return [
        (None, Reject(r.position, r.raw, f"{where} row {r.position + 1}: {r.reason}"))
        for r in rejects
    ]


def _unknown(raw: Sequence[Any], known: Sequence[str]) -> set[str]:
    """Fields no contract section documents: ignored (§3.1), but named in the asset's metadata
    so that a changed route is visible before it breaks anything."""
    return {key for row in raw if isinstance(row, dict) for key in row} - set(known)


def leaderboard_sightings(board: str, raw: Sequence[Any]) -> Sightings:
    """One leaderboard board (``volume:30``) as sightings; rank = position as sent."""
    schema = payload_schema(LEADERBOARD_ENTRY)
    valid, rejects = validate_rows(raw, schema)
    rows = []
    for position, row in valid.iterrows():
        sent = row["rankingValue"]
        rows.append(
            {
                "address": row["walletAddress"].lower(),
                "source": "leaderboard",
                "board": board,
                "rank": int(position) + 1,
                "ranking_value_sent": sent,
                "ranking_value": _ranking_value(sent),
                "holding_usd": None,
                "user_name": row["userName"],
            }
        )
    unknown = _unknown(raw, list(schema.columns))
    return Sightings(rows, _tagged(rejects, f"leaderboard {board}"), unknown)


def holder_sightings(market_id: int, side: str, raw: Sequence[Any]) -> Sightings:
    """One market side's top holders as sightings (``market:<id>:<side>``)."""
    board = f"market:{market_id}:{side}"
    schema = payload_schema(HOLDER_ENTRY)
    valid, rejects = validate_rows(raw, schema)
    rows = [
        {
            "address": row["walletAddress"].lower(),
            "source": "holders",
            "board": board,
            "rank": int(position) + 1,
            "ranking_value_sent": None,
            "ranking_value": None,
            "holding_usd": _holding(row["sharesAmount"]),
            "user_name": row["userName"],
        }
        for position, row in valid.iterrows()
    ]
    unknown = _unknown(raw, list(schema.columns))
    return Sightings(rows, _tagged(rejects, f"holders {board}"), unknown)


def registry_sightings(entries: Sequence[dict[str, Any]]) -> Sightings:
    """The registry file's lines ({address, label}) as sightings of source ``registry``."""
    valid, rejects = validate_rows(entries, payload_schema(REGISTRY_ENTRY))
    rows = [
        {
            "address": row["address"].lower(),
            "source": "registry",
            "board": "file",
            "rank": None,
            "ranking_value_sent": None,
            "ranking_value": None,
            "holding_usd": None,
            "user_name": row["label"],
        }
        for _position, row in valid.iterrows()
    ]
    return Sightings(rows, _tagged(rejects, "registry"))
