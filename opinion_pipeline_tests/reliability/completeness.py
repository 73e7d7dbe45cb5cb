"""Completeness against the truth: is each wallet proven complete by the ledger, and rightly?

The ledger (``trade_coverage``, defs/whale_trades/coverage.py) proves a wallet complete when the
venue's count equals what the warehouse accounts for. These helpers check that proof with the
simulator's ground truth, not with the ledger's own figures: a wallet counts as proven only
when its ledger row says gap 0 AND the venue total in it is the truth's count AND the stored,
archived and unresolved-quarantine counts in it are what the tables really hold AND
``complete_through`` is the newest venue trade (or, when that trade sits in quarantine with a
time spoiled beyond reading, the newest one whose time the pipeline could read).

``plant_gap`` deletes trades behind the pipeline's back (a direct DuckDB DELETE), for the
tests that show a gap is found and repaired.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import duckdb

from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.pipeline.helpers import truth_fills, warehouse_fills
from opinion_pipeline_tests.reliability.helpers import raw_explains_fill

CREATED_AT = -1  # index of createdAt in a fill tuple (helpers.IDENTITY)


@dataclass
class Proof:
    wallets: int = 0
    proven: int = 0
    not_proven: dict[str, str] = field(default_factory=dict)  # wallet -> why

    @property
    def share(self) -> float:
        return self.proven / self.wallets if self.wallets else 0.0


def _readable_time(raw: dict[str, Any]) -> int | None:
    try:
        return int(raw.get("createdAt"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _expected_through(fills: list[tuple], stored: Counter, raws: list[dict]) -> int | None:
    """Newest fill stored, or quarantined with a time that still reads (see module docstring)."""
    for fill in sorted(fills, key=lambda f: -f[CREATED_AT]):
        if stored[fill] > 0:
            return fill[CREATED_AT]
        for raw in raws:
            if raw_explains_fill(raw, fill) and _readable_time(raw) == fill[CREATED_AT]:
                return fill[CREATED_AT]
    return None


def _ledger(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    rows = conn.execute(
        "SELECT wallet, venue_total, stored, archived, quarantined, gap, "
        "CAST(epoch(complete_through) AS BIGINT) FROM trade_coverage"
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def _table_counts(conn: duckdb.DuckDBPyConnection, sql: str) -> dict[str, int]:
    return {wallet: int(n) for wallet, n in conn.execute(sql).fetchall()}


def prove(sim: SimulatorProcess, conn: duckdb.DuckDBPyConnection) -> Proof:
    """Every simulator wallet's ledger row checked against the truth and the tables."""
    truth = truth_fills(sim.truth_trades())
    by_wallet: dict[str, list[tuple]] = defaultdict(list)
    for fill in truth.elements():
        by_wallet[fill[0]].append(fill)
    stored = warehouse_fills(conn)
    raws: dict[str, list[dict]] = defaultdict(list)
    unresolved = conn.execute(
        "SELECT coalesce(wallet, ''), raw_json FROM quarantine "
        "WHERE entity = 'trade' AND resolved_at IS NULL"
    ).fetchall()
    for wallet, raw in unresolved:
        raws[wallet].append(json.loads(raw))
    in_trades = _table_counts(conn, "SELECT wallet, count(*) FROM trades GROUP BY wallet")
    in_archive = _table_counts(conn, "SELECT wallet, count(*) FROM archived_trades GROUP BY wallet")
    ledger = _ledger(conn)
    proof = Proof()
    for entry in sim.wallets():
        wallet = entry["address"].lower()
        proof.wallets += 1
        fills = by_wallet.get(wallet, [])
        row = ledger.get(wallet)
        if row is None:
            proof.not_proven[wallet] = "no ledger row"
            continue
        expected = (
            len(fills),
            in_trades.get(wallet, 0),
            in_archive.get(wallet, 0),
            len(raws.get(wallet, [])),
            0,
            _expected_through(fills, stored, raws.get(wallet, [])),
        )
        if row != expected:
            proof.not_proven[wallet] = (
                f"ledger (total, stored, archived, quarantined, gap, through) {row} "
                f"!= truth/tables {expected}"
            )
            continue
        proof.proven += 1
    return proof


def plant_gap(conn: duckdb.DuckDBPyConnection, wallets: int, rows: int) -> dict[str, int]:
    """Delete the ``rows`` oldest stored trades of the ``wallets`` wallets holding the most
    among those the ledger proves complete (gap 0: the gap seen next is the planted one).

    Behind the pipeline's back: no ledger update, and the rows are older than every watermark,
    so an incremental read never fetches them again. Returns wallet -> rows deleted.
    """
    victims = [
        wallet
        for (wallet,) in conn.execute(
            "SELECT t.wallet FROM trades t JOIN trade_coverage c ON c.wallet = t.wallet "
            "WHERE c.gap = 0 GROUP BY t.wallet ORDER BY count(*) DESC, t.wallet LIMIT ?",
            [wallets],
        ).fetchall()
    ]
    deleted = {}
    for wallet in victims:
        (n,) = conn.execute(
            "DELETE FROM trades WHERE trade_key IN (SELECT trade_key FROM trades "
            "WHERE wallet = ? ORDER BY created_at, trade_key LIMIT ?)",
            [wallet, rows],
        ).fetchone()
        deleted[wallet] = int(n)
    return deleted


def ledger_gaps(conn: duckdb.DuckDBPyConnection, wallets: list[str]) -> dict[str, tuple]:
    """wallet -> (gap, epoch of checked_at, repairs, last repair outcome) for ``wallets``."""
    rows = conn.execute(
        "SELECT wallet, gap, CAST(epoch(checked_at) AS DOUBLE), repairs, last_repair_outcome "
        "FROM trade_coverage WHERE wallet IN (SELECT unnest(?))",
        [wallets],
    ).fetchall()
    return {row[0]: row[1:] for row in rows}
