"""The warehouse's tables. Every table has a natural primary key, so every write is idempotent.

Money is DECIMAL(38,18) (the API sends up to 18 decimals), times are TIMESTAMPTZ in UTC, and
uint256 token ids are VARCHAR. ``CREATE ... IF NOT EXISTS`` makes ``ensure_schema`` safe to run on
every connection; ``schema_version`` records what was applied, and ``warehouse/migrations.py``
brings an older warehouse up to date.

``trades`` is the one table whose natural key is not a PRIMARY KEY: DuckDB backs a primary key
with an in-memory ART index, which on ``trades`` doubled the file, tripled the memory of every
sync and made writes 2-4x slower (BENCHMARKS.md, "Warehouse writes"). Its key is kept unique
by its only writer, ``warehouse/trades.py:insert_trades`` (anti-join under the warehouse lock,
in the write's transaction), and checked after every sync by the ``trade_keys_unique`` asset
check. ``NATURAL_KEYS`` records it for the catalog.
"""

from __future__ import annotations

import duckdb

SCHEMA_VERSION = 2

MONEY = "DECIMAL(38,18)"

DDL = f"""
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS markets (
    market_id BIGINT PRIMARY KEY,
    parent_market_id BIGINT,             -- set on categorical children
    market_type SMALLINT NOT NULL,       -- 0 binary, 1 categorical
    title VARCHAR NOT NULL,
    status SMALLINT NOT NULL,            -- 1 Created .. 6 Deleted
    status_enum VARCHAR,
    yes_label VARCHAR,
    no_label VARCHAR,
    rules VARCHAR,
    yes_token_id VARCHAR,
    no_token_id VARCHAR,
    condition_id VARCHAR,
    result_token_id VARCHAR,
    question_id VARCHAR,
    volume {MONEY},
    volume_24h {MONEY},
    volume_7d {MONEY},
    quote_token VARCHAR,
    chain_id VARCHAR,
    created_at TIMESTAMPTZ,
    cutoff_at TIMESTAMPTZ,
    resolved_at TIMESTAMPTZ,
    slug VARCHAR,
    labels VARCHAR,                      -- JSON array as sent
    first_seen_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS whales (
    address VARCHAR PRIMARY KEY,         -- lowercase 0x + 40 hex
    label VARCHAR NOT NULL,
    tags VARCHAR[] NOT NULL,
    in_registry BOOLEAN NOT NULL,        -- false once removed from the registry file
    status VARCHAR NOT NULL DEFAULT 'active',   -- active | inactive
    first_listed_at TIMESTAMPTZ NOT NULL,
    last_listed_at TIMESTAMPTZ NOT NULL,
    last_polled_at TIMESTAMPTZ,
    inactive_since TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS trades (
    trade_key VARCHAR NOT NULL,          -- unique without an index, see validation/keys.py
    wallet VARCHAR NOT NULL,
    tx_hash VARCHAR NOT NULL,
    market_id BIGINT NOT NULL,
    root_market_id BIGINT,
    market_title VARCHAR,
    root_market_title VARCHAR,
    side VARCHAR NOT NULL,               -- BUY | SELL | MERGE | SPLIT
    outcome VARCHAR,
    outcome_side SMALLINT NOT NULL,      -- 1 Yes, 2 No
    price {MONEY} NOT NULL,
    shares {MONEY} NOT NULL,
    amount {MONEY} NOT NULL,             -- quote token (USDT)
    fee {MONEY},
    profit {MONEY},
    quote_token VARCHAR NOT NULL,
    quote_token_usd_price {MONEY} NOT NULL,
    usd_value {MONEY} NOT NULL,          -- amount x quote_token_usd_price
    usd_amount_reported VARCHAR,         -- the API's usdAmount, untrusted, as sent
    status SMALLINT,
    chain_id VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    occurrence INTEGER NOT NULL,         -- 0, or n for the n-th identical twin fill
    market_known BOOLEAN NOT NULL,       -- false until the market sweep has seen market_id
    ingested_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
);

CREATE TABLE IF NOT EXISTS whale_activity (
    trade_key VARCHAR PRIMARY KEY,
    wallet VARCHAR NOT NULL,
    label VARCHAR,
    market_id BIGINT NOT NULL,
    market_title VARCHAR,
    side VARCHAR NOT NULL,
    outcome VARCHAR,
    usd_value {MONEY} NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    detected_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
);

CREATE TABLE IF NOT EXISTS whale_stats (
    wallet VARCHAR PRIMARY KEY,
    label VARCHAR,
    total_volume_usd {MONEY} NOT NULL,
    volume_24h_usd {MONEY} NOT NULL,
    volume_7d_usd {MONEY} NOT NULL,
    volume_30d_usd {MONEY} NOT NULL,
    trade_count BIGINT NOT NULL,
    buy_count BIGINT NOT NULL,
    sell_count BIGINT NOT NULL,
    distinct_markets BIGINT NOT NULL,
    realized_profit_usd {MONEY} NOT NULL,
    first_trade_at TIMESTAMPTZ,
    last_trade_at TIMESTAMPTZ,
    largest_trade_usd {MONEY},
    computed_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_key VARCHAR PRIMARY KEY,  -- hash of entity, wallet and raw row
    entity VARCHAR NOT NULL,             -- trade | market
    wallet VARCHAR,
    reason VARCHAR NOT NULL,
    raw_json VARCHAR NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
);

CREATE TABLE IF NOT EXISTS archive_manifest (
    file_path VARCHAR PRIMARY KEY,       -- relative to the archive directory
    table_name VARCHAR NOT NULL,
    month VARCHAR NOT NULL,              -- YYYY-MM of created_at
    row_count BIGINT NOT NULL,
    min_created_at TIMESTAMPTZ,
    max_created_at TIMESTAMPTZ,
    cutoff TIMESTAMPTZ NOT NULL,
    archived_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
);

-- Trades moved to the archive: a sync that reads one again (a whale's first page, or the whole
-- history of a whale whose trades are all archived) must not store it twice, and a whale's
-- watermark must survive the archiving of its newest trade.
CREATE TABLE IF NOT EXISTS archived_trades (
    trade_key VARCHAR PRIMARY KEY,
    wallet VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
"""

TABLES = (
    "markets",
    "whales",
    "trades",
    "whale_activity",
    "whale_stats",
    "quarantine",
    "archive_manifest",
)


# Unique keys kept by the writer rather than by a PRIMARY KEY index (see the module docstring).
NATURAL_KEYS = {"trades": ("trade_key",)}


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing and migrate an older warehouse; cheap when up to date."""
    from opinion_pipeline.warehouse.migrations import migrate

    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(DDL)
    migrate(conn, SCHEMA_VERSION)


def primary_key_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of ``table``'s PRIMARY KEY as DuckDB has it (empty when it has none)."""
    rows = conn.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
        [table],
    ).fetchall()
    return [name for (names,) in rows for name in names]


def create_statement(table: str) -> str:
    """The ``CREATE TABLE`` statement of ``table`` in the DDL above."""
    for statement in DDL.split(";"):
        if f"CREATE TABLE IF NOT EXISTS {table} (" in statement:
            return statement
    raise KeyError(f"no CREATE TABLE for {table!r} in the DDL")


def load_expression(
    column: str,
    *,
    money: frozenset[str] = frozenset(),
    ints: frozenset[str] = frozenset(),
    times: frozenset[str] = frozenset(),
) -> str:
    """SELECT expression turning a validated frame column into its warehouse type.

    Decimals arrive as strings and are cast straight to DECIMAL (never through float); times
    arrive as Unix seconds.
    """
    if column in money:
        return f"CAST({column} AS {MONEY}) AS {column}"
    if column in times:
        return f"to_timestamp(CAST({column} AS BIGINT)) AS {column}"
    if column in ints:
        return f"CAST({column} AS BIGINT) AS {column}"
    return f"CAST({column} AS VARCHAR) AS {column}"
