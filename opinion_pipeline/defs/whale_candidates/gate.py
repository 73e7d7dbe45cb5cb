"""The admission gate: from every sighting to one decided row per address (no I/O here).

Rules (configuration; defaults in the README): a discovered address qualifies when, on a
sighting no older than ``drop_days``, it ranks in the top ``top_n`` of one of the chosen
``boards`` with a ranking value of at least ``min_ranking_value`` (a value sent as ``""`` or
``"0"`` is unknown, not zero: it counts only when the board's order proves it, i.e. a known value
ranked below it reaches the minimum), or holds at least ``min_holding_usd`` (face
value) on one side of a market. Registry pins are always admitted, ``exclude`` lines never.
A tracked address whose trades route returned nothing although a source reports activity is
marked ``no_trades_seen`` and not admitted.

The cap: pins take their places first, then qualified addresses in a deterministic priority
order (already tracked first, then best qualifying rank, then largest holding, then address),
until ``max_tracked`` is reached; the rest are rejected by the cap, naming their priority.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

NO_RANK = 10**9


@dataclass(frozen=True)
class AdmissionRules:
    boards: tuple[str, ...] = ("volume:30", "profit:30", "volume:0", "profit:0")
    top_n: int = 25
    min_ranking_value: Decimal = Decimal(1000)
    min_holding_usd: Decimal = Decimal(5000)
    max_tracked: int = 500
    drop_days: int = 14

    def describe(self) -> str:
        return (
            f"top {self.top_n} on {', '.join(self.boards)} with a known value >= "
            f"{self.min_ranking_value}; or a holding >= {self.min_holding_usd} USD; "
            f"cap {self.max_tracked}; sightings count for {self.drop_days} days"
        )


@dataclass(frozen=True)
class Universe:
    """What the registry says now: file pins and excludes, discovered whales tracked, and the
    tracked addresses whose polls returned no trade at all."""

    pins: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    tracked: frozenset[str] = frozenset()
    polled_without_trades: frozenset[str] = frozenset()


def _dec(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return Decimal(str(value))


def _seconds(value: Any) -> int:
    return int(pd.Timestamp(value).timestamp())


Floors = dict[tuple[str, str], Decimal]


def value_floors(sightings: pd.DataFrame) -> Floors:
    """A lower bound for each unknown leaderboard value, from the board's order.

    A board is sorted by value, best first, so a value sent as ``""`` or ``"0"`` is at least the
    largest known value ranked below it in the same reading of the board (same last_seen_at).
    """
    floors: Floors = {}
    boards = sightings[sightings["source"] == "leaderboard"]
    for _key, rows in boards.groupby(["board", "last_seen_at"]):
        below: Decimal | None = None
        for row in rows.sort_values("rank", ascending=False).itertuples(index=False):
            value = _dec(row.ranking_value)
            if value is None and below is not None:
                floors[(row.board, row.address)] = below
            elif value is not None:
                below = value if below is None else max(below, value)
    return floors


def _qualifies(
    rows: Sequence[Any], rules: AdmissionRules, fresh_after: int, floors: Floors
) -> tuple[int, str]:
    """(rank used for priority, the admitting rule), or (NO_RANK, why not) when none applies."""
    best: tuple[int, str] | None = None
    misses = []
    for row in rows:
        if _seconds(row.last_seen_at) < fresh_after:
            misses.append(f"{row.board} last seen over {rules.drop_days} days ago")
            continue
        if row.source == "leaderboard" and row.board in rules.boards:
            value = _dec(row.ranking_value)
            floor = floors.get((row.board, row.address))
            if row.rank > rules.top_n:
                misses.append(f"rank {row.rank} on {row.board} (top {rules.top_n} admitted)")
            elif value is not None and value < rules.min_ranking_value:
                misses.append(f"value {row.ranking_value_sent} on {row.board} below "
                              f"{rules.min_ranking_value}")  # fmt: skip
            elif value is None and (floor is None or floor < rules.min_ranking_value):
                misses.append(f"value on {row.board} sent as {row.ranking_value_sent!r} "
                              f"(unknown), not provably >= {rules.min_ranking_value}")  # fmt: skip
            elif best is None or row.rank < best[0]:
                known = (f"value {row.ranking_value_sent}" if value is not None
                         else f"value unknown, >= {floor} by its rank")  # fmt: skip
                best = (
                    int(row.rank),
                    f"top {rules.top_n} on {row.board}: rank {row.rank}, {known}",
                )
        elif row.source == "holders":
            holding = _dec(row.holding_usd) or Decimal(0)
            if holding >= rules.min_holding_usd:
                candidate = (NO_RANK - 1, f"holds {holding:.2f} USD face value on {row.board}")
                if best is None:
                    best = candidate
            else:
                misses.append(f"holding {holding:.2f} USD on {row.board} below "
                              f"{rules.min_holding_usd}")  # fmt: skip
    if best is not None:
        return best
    return NO_RANK, "not admitted: " + ("; ".join(sorted(misses)[:3]) or "no qualifying sighting")


def _activity(rows: Sequence[Any]) -> bool:
    values = [_dec(row.ranking_value) for row in rows] + [_dec(row.holding_usd) for row in rows]
    return any(value is not None and value > 0 for value in values)


def _summary(address: str, rows: Sequence[Any]) -> dict[str, Any]:
    ranked = sorted((r for r in rows if r.source == "leaderboard"), key=lambda r: (r.rank, r.board))
    holdings = [row for row in rows if row.source == "holders"]
    held = {row.board: str(_dec(row.holding_usd)) for row in holdings}
    top = [_dec(row.holding_usd) for row in holdings]
    return {
        "address": address,
        "sources": sorted({row.source for row in rows}),
        "boards": sorted({row.board for row in rows}),
        "best_rank": int(ranked[0].rank) if ranked else None,
        "best_board": ranked[0].board if ranked else None,
        "ranking_values": json.dumps(
            {row.board: row.ranking_value_sent for row in ranked}, sort_keys=True
        ) if ranked else None,
        "holding_usd": str(max(v for v in top if v is not None)) if held else None,
        "holdings": json.dumps(held, sort_keys=True) if held else None,
        "first_seen_at": min(_seconds(row.first_seen_at) for row in rows),
        "last_seen_at": max(_seconds(row.last_seen_at) for row in rows),
    }  # fmt: skip


def _by_address(sightings: pd.DataFrame) -> list[tuple[str, list[Any]]]:
    """Each address's sightings as plain rows, addresses in order: the gate reads every row of
    every address, and pandas sub-frames per address cost milliseconds each (4 ms x thousands)."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in sightings.itertuples(index=False):
        grouped[str(row.address)].append(row)
    return sorted(grouped.items())


def decide(
    sightings: pd.DataFrame, universe: Universe, rules: AdmissionRules, now: int
) -> pd.DataFrame:
    """One row per address seen by any source (WHALE_CANDIDATES' frame columns)."""
    fresh_after = now - rules.drop_days * 86_400
    floors = value_floors(sightings)
    decided: list[dict[str, Any]] = []
    qualified: list[tuple[tuple[Any, ...], dict[str, Any], str]] = []
    for address, rows in _by_address(sightings):
        row = _summary(address, rows)
        row.update(admitted=False, priority=None, no_trades_seen=False)
        decided.append(row)
        if address in universe.excluded:
            row["rule"] = "excluded: marked exclude in the registry file"
            continue
        if address in universe.pins:
            row.update(admitted=True, rule="pinned: listed in the registry file")
            continue
        if address in universe.polled_without_trades and _activity(rows):
            row.update(
                no_trades_seen=True,
                rule="no_trades_seen: its trades route returned "
                "nothing although a source reports activity (a Safe proxy address?)",
            )
            continue  # fmt: skip
        rank, rule = _qualifies(rows, rules, fresh_after, floors)
        row["rule"] = rule
        if rank < NO_RANK:
            holding = _dec(row["holding_usd"]) or Decimal(0)
            order = (address not in universe.tracked, rank, -holding, address)
            qualified.append((order, row, rule))
    slots = max(0, rules.max_tracked - len(universe.pins))
    pinned = sorted(r["address"] for r in decided if r["admitted"])
    by_address = {r["address"]: r for r in decided}
    for priority, address in enumerate(pinned, start=1):
        by_address[address]["priority"] = priority
    for place, (_order, row, rule) in enumerate(sorted(qualified, key=lambda q: q[0]), start=1):
        row["priority"] = len(pinned) + place
        if place <= slots:
            row["admitted"] = True
        else:
            row["rule"] = (f"over the cap: OPINION_MAX_TRACKED_WHALES={rules.max_tracked} "
                           f"(priority {row['priority']}; would be: {rule})")  # fmt: skip
    return pd.DataFrame(decided, columns=CANDIDATE_COLUMNS)


CANDIDATE_COLUMNS = [
    "address", "sources", "boards", "best_rank", "best_board", "ranking_values", "holding_usd",
    "holdings", "first_seen_at", "last_seen_at", "admitted", "rule", "priority",
    "no_trades_seen",
]  # fmt: skip


def parse_boards(text: str) -> tuple[str, ...]:
    """``volume:30,profit:0`` -> ("volume:30", "profit:0"); a bad entry raises ValueError."""
    boards = tuple(part.strip() for part in text.split(",") if part.strip())
    for board in boards:
        data_type, _, period = board.partition(":")
        if data_type not in ("volume", "profit", "points") or period not in ("0", "1", "7", "30"):
            raise ValueError(
                f"OPINION_ADMIT_BOARDS: {board!r} is not dataType:period "
                "(volume|profit|points : 0|1|7|30)"
            )
    return boards


def addresses(values: Iterable[Any]) -> frozenset[str]:
    return frozenset(str(value).lower() for value in values)
