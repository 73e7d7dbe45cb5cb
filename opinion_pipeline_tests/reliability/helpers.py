"""Shared helpers: fast clients, and ground-truth comparisons that account for quarantine.

A fault campaign may legitimately leave a fill out of ``trades`` only when the row was
malformed when fetched (then it sits in ``quarantine`` with a reason). These helpers compute
what is missing, what is extra, and whether each missing fill is explained by a quarantine row
of the same wallet, so a test can demand "nothing lost, nothing duplicated" exactly.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb

from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.conftest import SMALL_WORLD, make_client
from opinion_pipeline_tests.pipeline.helpers import truth_fills, warehouse_fills

# The small test world with the venue's 15 requests/s limit off: the campaign is about faults,
# not pacing, and the client paces itself anyway.
FAST_WORLD: dict[str, Any] = {**SMALL_WORLD, "rate_limit": 0.0}

# Fast but otherwise default client options: tiny backoff, two retries (so retries run out now
# and then and the recovery path is exercised), a pacing far above what the loopback needs.
FAST_CLIENT: dict[str, Any] = {
    "rate_limit_per_second": 1000.0,
    "max_retries": 2,
    "backoff_base_s": 0.01,
    "backoff_max_s": 0.05,
    "connect_timeout_s": 2.0,
    "read_timeout_s": 2.0,
}

IDENTITY = ("txHash", "marketId", "side", "price", "shares", "amount", "createdAt")


def fast_client(
    sim: SimulatorProcess, api_key: str, limiter_dir: Path, **overrides: Any
) -> OpinionAPI:
    return make_client(sim, api_key, limiter_dir, **{**FAST_CLIENT, **overrides})


def _same(field: str, raw: Any, expected: Any) -> bool:
    """Does a (maybe corrupted) raw value equal the fill's value? Lenient about types."""
    try:
        if field in ("price", "shares", "amount"):
            return Decimal(str(raw)) == expected
        if field in ("marketId", "createdAt"):
            return int(raw) == expected
    except (InvalidOperation, TypeError, ValueError):
        return False
    if field == "txHash":
        return str(raw).lower() == expected
    return str(raw).upper() == expected


def raw_explains_fill(raw: dict[str, Any], fill: tuple) -> bool:
    """A quarantined raw row is this fill corrupted in at most one identifying field."""
    differing = sum(
        not _same(field, raw.get(field), value)
        for field, value in zip(IDENTITY, fill[1:], strict=True)
    )
    return differing <= 1


def quarantined_raws(conn: duckdb.DuckDBPyConnection, entity: str) -> list[tuple[str, dict]]:
    rows = conn.execute(
        "SELECT coalesce(wallet, ''), raw_json, reason FROM quarantine WHERE entity = ?",
        [entity],
    ).fetchall()
    assert all(reason for _, _, reason in rows), "every quarantined row carries a reason"
    return [(wallet, json.loads(raw)) for wallet, raw, _ in rows]


def archived_fills(archive: Path) -> Counter:
    """Fills in the trades archive (Parquet), comparable with ``warehouse_fills``."""
    files = list((archive / "trades").rglob("*.parquet")) if archive.exists() else []
    if not files:
        return Counter()
    paths = ", ".join("'" + file.as_posix().replace("'", "''") + "'" for file in files)
    rows = duckdb.sql(
        "SELECT wallet, tx_hash, market_id, side, price, shares, amount, "
        f"CAST(epoch(created_at) AS BIGINT) FROM read_parquet([{paths}])"
    ).fetchall()
    return Counter(
        (w, tx, int(m), s, Decimal(p), Decimal(sh), Decimal(a), int(t))
        for w, tx, m, s, p, sh, a, t in rows
    )


def compare_trades(
    sim: SimulatorProcess, conn: duckdb.DuckDBPyConnection, archive: Path | None = None
) -> dict[str, Any]:
    """Warehouse (plus archive) fills vs the truth: extra, missing, missing unexplained.

    A fill both archived and still stored counts twice, so it shows as extra.
    """
    truth = truth_fills(sim.truth_trades())
    stored = warehouse_fills(conn) + (archived_fills(archive) if archive else Counter())
    extra = stored - truth
    missing = truth - stored
    raws = quarantined_raws(conn, "trade")
    unexplained = [
        fill
        for fill in missing
        if not any(w == fill[0] and raw_explains_fill(raw, fill) for w, raw in raws)
    ]
    return {
        "truth": sum(truth.values()),
        "stored": sum(stored.values()),
        "extra": extra,
        "missing": sum(missing.values()),
        "unexplained": unexplained,
        "quarantined": len(raws),
    }


def truth_market_rows(sim: SimulatorProcess) -> dict[int, tuple]:
    """market_id -> (title, status, parent id, volume) from the truth, children flattened."""
    rows: dict[int, tuple] = {}
    for market in sim.truth_markets():
        rows[market["marketId"]] = (
            market["marketTitle"],
            market["status"],
            None,
            Decimal(market["volume"]),
        )
        for child in market.get("childMarkets") or []:
            rows[child["marketId"]] = (
                child["marketTitle"],
                child["status"],
                market["marketId"],
                Decimal(child["volume"]),
            )
    return rows


def compare_markets(sim: SimulatorProcess, conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Stored markets vs truth; a differing or absent market must have a quarantine row."""
    truth = truth_market_rows(sim)
    stored = {
        market_id: (title, status, parent, volume)
        for market_id, title, status, parent, volume in conn.execute(
            "SELECT market_id, title, status, parent_market_id, volume FROM markets"
        ).fetchall()
    }
    raws = [raw for _, raw in quarantined_raws(conn, "market")]
    wrong = [market_id for market_id, row in truth.items() if stored.get(market_id) != row]

    def explained(market_id: int) -> bool:
        title = truth[market_id][0]
        return any(
            raw.get("marketId") == market_id or raw.get("marketTitle") == title for raw in raws
        )

    return {
        "truth": len(truth),
        "stored": len(stored),
        "extra": sorted(set(stored) - set(truth)),
        "wrong": len(wrong),
        "unexplained": [market_id for market_id in wrong if not explained(market_id)],
    }


def exact_usd_values(conn: duckdb.DuckDBPyConnection) -> int:
    """Rows whose usd_value is not amount x quoteTokenUsdPrice exactly (should be 0)."""
    quantum = Decimal(1).scaleb(-18)
    rows = conn.execute("SELECT amount, quote_token_usd_price, usd_value FROM trades").fetchall()
    return sum(1 for amount, price, usd in rows if (amount * price).quantize(quantum) != usd)
