"""Property-based tests (hypothesis) of payload parsing, decimals and the dedup key.

Parsing: any JSON-ish rows give valid rows xor rejects with a reason, never an exception, and
the valid ones store in the real DuckDB schema with every decimal exact. Keys: stable under
re-fetch (casing included), distinct for twins, and a prefix of a fetch keys like the fetch.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, localcontext

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opinion_pipeline.defs.markets.store import upsert_markets
from opinion_pipeline.defs.markets.validate import prepare_markets
from opinion_pipeline.defs.whale_trades.keys import KEY_FIELDS, trade_keys
from opinion_pipeline.defs.whale_trades.store import insert_trades
from opinion_pipeline.defs.whale_trades.validate import prepare_trades
from opinion_pipeline.warehouse.catalog import warehouse_tables
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline.warehouse.migrations import ensure_schema
from opinion_pipeline_tests.reliability.figures import FIGURES, record
from opinion_pipeline_tests.reliability.strategies import (
    decimal_text,
    market_rows,
    trade_rows,
    valid_trade,
)

WALLET = "0x" + "ab" * 20
QUANTUM = Decimal(1).scaleb(-18)
PROFILE = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
MONEY = ("price", "shares", "amount", "fee", "profit", "quote_token_usd_price", "usd_value")


@pytest.fixture(scope="module")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    """One in-memory database with the real DDL; each example empties the tables it uses."""
    conn = duckdb.connect()
    ensure_schema(conn, warehouse_tables())
    yield conn
    conn.close()


def _count(name: str, amount: int = 1) -> None:
    figures = FIGURES.setdefault("properties", {})
    figures[name] = figures.get(name, 0) + amount


def _exact_usd(amount: str, price: str) -> Decimal:
    with localcontext() as context:
        context.prec = 100
        return (Decimal(amount) * Decimal(price)).quantize(QUANTUM)


@PROFILE
@given(rows=trade_rows())
def test_trade_rows_are_valid_xor_rejected_and_store_exactly(db, rows) -> None:
    batch = prepare_trades(WALLET, rows)  # must never raise
    positions = [reject.position for reject in batch.rejects]
    assert len(set(positions)) == len(positions) and all(0 <= p < len(rows) for p in positions)
    assert all(reject.reason for reject in batch.rejects)
    assert len(batch.rows) + len(batch.rejects) == len(rows)
    kept = [row for position, row in enumerate(rows) if position not in set(positions)]
    _count("trade_rows_tried", len(rows))
    _count("trade_rows_rejected", len(positions))
    db.execute("DELETE FROM trades; DELETE FROM whale_activity")
    insert_trades(
        DuckDBSession(db), batch.rows, run_id=None, alert_usd=0.0
    )  # must never raise either
    stored = {
        key: values
        for key, *values in db.execute(
            "SELECT trade_key, tx_hash, market_id, CAST(epoch(created_at) AS BIGINT), "
            f"{', '.join(MONEY)} FROM trades"
        ).fetchall()
    }
    assert len(stored) == len(set(batch.rows["trade_key"]))
    for key, raw in zip(batch.rows["trade_key"], kept, strict=True):
        tx_hash, market_id, created_at, *money = stored[key]
        assert (tx_hash, market_id, created_at) == (
            raw["txHash"].lower(),
            raw["marketId"],
            raw["createdAt"],
        )
        values = dict(zip(MONEY, money, strict=True))
        for field, column in (("price", "price"), ("shares", "shares"), ("amount", "amount")):
            assert values[column] == Decimal(raw[field]), field
        for field in ("fee", "profit"):
            assert values[field] == (None if raw.get(field) is None else Decimal(raw[field]))
        assert values["usd_value"] == _exact_usd(raw["amount"], raw["quoteTokenUsdPrice"])


def _children(row: object) -> list:
    children = row.get("childMarkets") if isinstance(row, dict) else None
    return children if isinstance(children, list) else []


@PROFILE
@given(rows=market_rows())
def test_market_rows_are_valid_xor_rejected_and_store_exactly(db, rows) -> None:
    batch = prepare_markets(rows)  # must never raise
    assert all(reject.reason for reject in batch.rejects)
    flat = sum(1 + len(_children(row)) for row in rows)  # children are rows of their own
    assert len(batch.rows) + len(batch.rejects) == flat
    _count("market_rows_tried", flat)
    _count("market_rows_rejected", len(batch.rejects))
    db.execute("DELETE FROM markets")
    upsert_markets(DuckDBSession(db), batch.rows)  # must never raise
    stored = {
        market_id: (title, volume)
        for market_id, title, volume in db.execute(
            "SELECT market_id, title, volume FROM markets"
        ).fetchall()
    }
    first = batch.rows.drop_duplicates(subset="market_id", keep="first")
    assert len(stored) == len(first)
    for market_id, title, volume in first[["market_id", "title", "volume"]].itertuples(index=False):
        expected = None if volume is None else Decimal(volume)
        assert stored[int(market_id)] == (title, expected)


@PROFILE
@given(text=st.one_of(decimal_text(20, 18, negative=True), decimal_text(2, 18)))
def test_decimal_38_18_stores_exactly_what_python_holds(db, text: str) -> None:
    value = Decimal(text)
    stored = db.execute("SELECT CAST(? AS DECIMAL(38,18))", [text]).fetchone()[0]
    assert stored == value
    _count("decimals_round_tripped")


def _fills(trades: list[dict]) -> list[tuple]:
    return [tuple(trade[field] for field in KEY_FIELDS) for trade in trades]


@PROFILE
@given(
    trades=st.lists(valid_trade(), min_size=1, max_size=12),
    twins=st.lists(st.integers(min_value=0, max_value=11), max_size=6),
    cut=st.integers(min_value=0, max_value=20),
)
def test_trade_keys_stable_distinct_for_twins_and_prefix_consistent(trades, twins, cut) -> None:
    for index in twins:  # identical fills: the API can return them (one tx, equal fills)
        trades.insert(index % len(trades), dict(trades[index % len(trades)]))
    fills = _fills(trades)
    keys, occurrences = trade_keys(WALLET, fills)
    assert len(set(keys)) == len(keys), "twins get distinct keys"
    refetched = [
        (tx.upper().replace("0X", "0x"), market, outcome, side.swapcase(), *rest)
        for tx, market, outcome, side, *rest in fills
    ]
    assert trade_keys(WALLET.upper().replace("0X", "0x"), refetched) == (keys, occurrences)
    assert trade_keys(WALLET, fills[:cut]) == (keys[:cut], occurrences[:cut]), "prefix"
    other_keys, _ = trade_keys("0x" + "cd" * 20, fills)
    assert not set(other_keys) & set(keys), "wallets never share keys"
    _count("key_fetches_tried")
    record("properties", examples_per_property=PROFILE.max_examples)
