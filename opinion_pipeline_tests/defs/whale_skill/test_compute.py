"""whale_skill from whale_pnl counts: withheld rates NULL with a reason, rank by lower bound."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from opinion_pipeline.defs.whale_skill.compute import recompute_skill

pytestmark = pytest.mark.unit


def _plant(warehouse, records: dict[str, tuple[int, int]]) -> None:
    with warehouse.connection() as conn:
        conn.execute("DELETE FROM whale_pnl")
        for number, (name, (won, decided)) in enumerate(sorted(records.items())):
            conn.execute(
                "INSERT INTO whale_pnl VALUES (?, ?, 0, 0, 0, 0, NULL, ?, 0, 0, ?, ?, NULL, now())",
                [f"0x{number:040x}", name, decided, decided, won],
            )


def test_planted_whales_in_the_warehouse(warehouse):
    rng = random.Random(3)
    records = {}
    for index in range(200):
        rate, decided = rng.betavariate(10, 10), rng.randint(5, 120)
        records[f"w{index}"] = (sum(rng.random() < rate for _ in range(decided)), decided)
    records |= {"lucky": (6, 6), "steady": (140, 220), "edge19": (10, 19), "edge20": (10, 20)}
    _plant(warehouse, records)
    run = recompute_skill(warehouse, datetime.now(timezone.utc), min_decided=20)
    assert run.whales == len(records)
    with warehouse.connection() as conn:
        rows = {
            label: (rate, reason, rank, low)
            for label, rate, reason, rank, low in conn.execute(
                "SELECT label, win_rate, withheld_reason, skill_rank, credible_low FROM whale_skill"
            ).fetchall()
        }
    assert rows["steady"][2] < rows["lucky"][2]
    assert rows["lucky"][0] is None and "fewer than the 20" in rows["lucky"][1]
    assert rows["edge19"][0] is None and rows["edge20"][0] == pytest.approx(0.5)
    assert sorted(rank for _, _, rank, _ in rows.values()) == list(range(1, len(records) + 1))
    by_rank = sorted(rows.values(), key=lambda row: row[2])
    assert [row[3] for row in by_rank] == sorted((row[3] for row in by_rank), reverse=True)
