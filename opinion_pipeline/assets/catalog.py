"""Column schemas for the asset catalog, built from the tables themselves so they never drift.

``column_schema(table)`` gives an asset's ``dagster/column_schema`` metadata. For a warehouse
table, names, types, nullability and the primary key come from DuckDB itself (the DDL in
``warehouse/schema.py`` is executed in an in-memory database), so a column added, dropped or
retyped there shows in the UI without touching this file. Only the words are written here: a
column's description is the ``--`` comment on its DDL line, else the entry in ``DESCRIPTIONS``.

The few assets whose data is not a warehouse table (the run-history archive, the sync statistics,
the health report) are described from the code that produces them (``run_history.SCHEMA``, the
``JobStats`` fields) or, for the health report, from a short declaration below.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import dagster as dg
import duckdb

from opinion_pipeline.warehouse.schema import (
    DDL,
    NATURAL_KEYS,
    TABLES,
    ensure_schema,
    primary_key_columns,
)

COLUMN_SCHEMA_KEY = "dagster/column_schema"
RUN_HISTORY = "run_history"  # Parquet under OPINION_ARCHIVE_DIR/runs, one row per pruned run
SYNC_STATISTICS = "sync_statistics"  # the by_job table of the sync statistics asset
HEALTH_REPORT = "health_report"  # one row per check of pipeline_health

_TS = "(UTC)"
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "markets": {
        "parent_market_id": "Parent market of a categorical child",
        "market_type": "Market type",
        "status": "Numeric market status",
        "labels": "Market labels",
        "market_id": "Opinion market id (natural key).",
        "title": "Market title as listed.",
        "status_enum": "Status name sent with the numeric status (e.g. Activated, Resolved).",
        "yes_label": "Label of the Yes outcome.",
        "no_label": "Label of the No outcome.",
        "rules": "Resolution rules text.",
        "yes_token_id": "uint256 token id of the Yes outcome, as text.",
        "no_token_id": "uint256 token id of the No outcome, as text.",
        "condition_id": "On-chain condition id.",
        "result_token_id": "Token id of the winning outcome once resolved.",
        "question_id": "On-chain question id.",
        "volume": "Total traded volume reported by the API (quote token).",
        "volume_24h": "Volume over the last 24 h reported by the API.",
        "volume_7d": "Volume over the last 7 days reported by the API.",
        "quote_token": "Quote token contract address, lowercase.",
        "chain_id": "Chain the market settles on.",
        "created_at": f"When the market was created {_TS}; NULL if unset.",
        "cutoff_at": f"When trading stops {_TS}; NULL if unset.",
        "resolved_at": f"When the market resolved {_TS}; NULL until resolved.",
        "slug": "URL slug on opinion.trade.",
        "first_seen_at": f"When the market sweep first stored this market {_TS}.",
        "updated_at": f"When the market sweep last upserted this row {_TS}.",
    },
    "whales": {
        "address": "Wallet address (natural key)",
        "in_registry": "Whether the registry file lists the wallet now",
        "status": "Polling status",
        "label": "Human label from the registry file.",
        "tags": "Tags from the registry file (';'-separated there).",
        "first_listed_at": f"When the wallet first appeared in the registry {_TS}.",
        "last_listed_at": f"When the registry file last listed the wallet {_TS}.",
        "last_polled_at": f"When the wallet's trades were last fetched {_TS}.",
        "inactive_since": f"When the wallet was marked inactive {_TS}; NULL while active.",
    },
    "trades": {
        "trade_key": "Natural key: hash of the fill's fields plus its occurrence",
        "side": "Trade side, normalised",
        "outcome_side": "Outcome side",
        "amount": "Amount paid or received",
        "usd_value": "USD value of the trade",
        "usd_amount_reported": "USD amount reported by the API",
        "occurrence": "Tells identical fills apart",
        "market_known": "Whether the markets table has the market",
        "wallet": "Whale wallet address, lowercase.",
        "tx_hash": "Transaction hash (one transaction may settle several fills).",
        "market_id": "Market traded (a categorical child for categorical markets).",
        "root_market_id": "Parent market of a categorical child; NULL for binary markets.",
        "market_title": "Title of the market traded, as sent with the trade.",
        "root_market_title": "Title of the parent market, as sent with the trade.",
        "outcome": "Outcome label traded.",
        "price": "Price per share (quote token).",
        "shares": "Shares traded.",
        "fee": "Fee paid (quote token).",
        "profit": "Realized profit reported on sells and merges (quote token).",
        "quote_token": "Quote token contract address, lowercase.",
        "quote_token_usd_price": "USD price of the quote token at the trade.",
        "status": "Trade status code as sent by the API.",
        "chain_id": "Chain the trade settled on.",
        "created_at": f"When the trade happened {_TS}.",
        "ingested_at": f"When the pipeline stored the trade {_TS}.",
        "run_id": "Dagster run that stored the trade.",
    },
    "whale_activity": {
        "trade_key": "Key of the trade in the trades table.",
        "wallet": "Whale wallet address, lowercase.",
        "label": "The whale's label from the registry.",
        "market_id": "Market traded.",
        "market_title": "Title of the market traded.",
        "side": "BUY, SELL, MERGE or SPLIT.",
        "outcome": "Outcome label traded.",
        "usd_value": "USD value of the trade (at least OPINION_WHALE_ALERT_USD).",
        "created_at": f"When the trade happened {_TS}.",
        "detected_at": f"When the sync that found the trade ran {_TS}.",
        "run_id": "Dagster run that found the trade.",
    },
    "whale_stats": {
        "wallet": "Whale wallet address, lowercase.",
        "label": "The whale's label from the registry.",
        "total_volume_usd": "USD volume of every stored trade.",
        "volume_24h_usd": "USD volume over the 24 h before computed_at.",
        "volume_7d_usd": "USD volume over the 7 days before computed_at.",
        "volume_30d_usd": "USD volume over the 30 days before computed_at.",
        "trade_count": "Number of stored trades.",
        "buy_count": "Number of BUY trades.",
        "sell_count": "Number of SELL trades.",
        "distinct_markets": "Number of distinct markets traded.",
        "realized_profit_usd": "Sum of profit on sells and merges.",
        "first_trade_at": f"First stored trade {_TS}.",
        "last_trade_at": f"Last stored trade {_TS}.",
        "largest_trade_usd": "USD value of the largest trade.",
        "computed_at": f"When these statistics were computed {_TS}.",
    },
    "quarantine": {
        "quarantine_key": "Natural key",
        "entity": "Kind of row rejected",
        "wallet": "Wallet whose trades were fetched; NULL for markets.",
        "reason": "Why validation rejected the row.",
        "raw_json": "The rejected row exactly as the API sent it, as JSON.",
        "first_seen_at": f"When the row was first rejected {_TS}.",
        "run_id": "Dagster run that rejected the row.",
    },
    "archive_manifest": {
        "file_path": "Parquet file",
        "month": "Month of the trades or activity in the file",
        "table_name": "Table archived: trades or whale_activity.",
        "row_count": "Rows in the file.",
        "min_created_at": f"Oldest created_at in the file {_TS}.",
        "max_created_at": f"Newest created_at in the file {_TS}.",
        "cutoff": f"Retention cutoff of the run that wrote the file {_TS}.",
        "archived_at": f"When the file was written {_TS}.",
        "run_id": "Dagster run that wrote the file.",
    },
    RUN_HISTORY: {
        "run_id": "Dagster run id.",
        "job_name": "Job the run belonged to.",
        "status": "Final run status (SUCCESS, FAILURE, CANCELED).",
        "created_at": f"When the run was created {_TS}.",
        "started_at": f"When the run started {_TS}.",
        "ended_at": f"When the run ended {_TS}.",
        "duration_s": "Seconds from start to end.",
        "schedule_name": "Schedule that launched the run, if any.",
        "sensor_name": "Sensor that launched the run, if any.",
        "tags_json": "The run's tags of interest, as JSON.",
        "items_fetched": "Rows fetched from the API by the run's syncs.",
        "new_rows": "Rows the run's syncs inserted.",
        "duplicates_skipped": "Rows already stored, skipped.",
        "quarantined": "Rows that failed validation.",
        "requests": "API requests made.",
        "retries": "API requests retried.",
        "rate_limited_429s": "HTTP 429 answers received.",
        "error": "The run's failure message, if it failed.",
        "archived_at": f"When the run was archived {_TS}.",
    },
    SYNC_STATISTICS: {
        "job_name": "Job the row is about.",
        "runs": "Runs created in the window.",
        "succeeded": "Runs that succeeded.",
        "failed": "Runs that failed.",
        "canceled": "Runs canceled.",
        "in_progress": "Runs still queued or running.",
        "p50_s": "Median run duration in seconds.",
        "p95_s": "95th percentile run duration in seconds.",
        "requests": "API requests made by the job's syncs.",
        "rate_limited_429s": "HTTP 429 answers received.",
        "new_rows": "Rows inserted by the job's syncs.",
        "quarantined": "Rows that failed validation.",
        "last_failure": "Message of the job's last failed run in the window.",
    },
}

# The health report has no table: its rows are the asset's check results, declared here.
DECLARED: dict[str, list[tuple[str, str, str]]] = {
    HEALTH_REPORT: [
        (
            "check_name",
            "VARCHAR",
            "warehouse_reachable, api_reachable, quarantine_growth, or table_size_<table>.",
        ),
        ("passed", "BOOLEAN", "Whether the check passed."),
        ("severity", "VARCHAR", "ERROR (broken now) or WARN (look soon)."),
        ("rows", "BIGINT", "Row count, for the table_size checks."),
        ("warn_above", "BIGINT", "Warning size of the table (OPINION_HEALTH_THRESHOLDS)."),
        ("error_above", "BIGINT", "Error size of the table (OPINION_HEALTH_THRESHOLDS)."),
        ("description", "VARCHAR", "What the check found, in one sentence."),
    ],
}

_PYTHON_TYPES = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN"}
_COLUMN_LINE = re.compile(r"^\s*(\w+)\s+[^-]*?--\s*(.+?)\s*$")


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    unique: bool = False
    description: str | None = None


@cache
def ddl_comments(ddl: str = DDL) -> dict[str, dict[str, str]]:
    """``{table: {column: comment}}`` from the ``--`` comments of the DDL's column lines."""
    comments: dict[str, dict[str, str]] = {}
    table: str | None = None
    for line in ddl.splitlines():
        start = re.match(r"\s*CREATE TABLE (?:IF NOT EXISTS )?(\w+)", line)
        if start:
            table = start.group(1)
            continue
        match = _COLUMN_LINE.match(line)
        if table and match:
            comments.setdefault(table, {})[match.group(1)] = match.group(2)
    return comments


def describe_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[Column]:
    """A table's columns as DuckDB has them: name, type, nullability, key.

    The key is the primary key, or for ``trades`` the natural key its writer keeps unique
    without an index (``schema.NATURAL_KEYS``).
    """
    keys = {*primary_key_columns(conn, table), *NATURAL_KEYS.get(table, ())}
    rows = conn.execute(
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return [Column(name, kind, bool(nullable), name in keys) for name, kind, nullable in rows]


@cache
def warehouse_columns() -> dict[str, tuple[Column, ...]]:
    """Every warehouse table's columns, from the DDL run in an in-memory DuckDB."""
    conn = duckdb.connect(":memory:")
    try:
        ensure_schema(conn)
        return {table: tuple(describe_columns(conn, table)) for table in TABLES}
    finally:
        conn.close()


@cache
def _type_database() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB for the type lookups (opening one costs ~15 ms, at every run start)."""
    return duckdb.connect(":memory:")


@cache
def duckdb_type(kind: str) -> str:
    """A type as DuckDB spells it in DESCRIBE (TIMESTAMPTZ -> TIMESTAMP WITH TIME ZONE)."""
    with _type_database().cursor() as cursor:
        return str(cursor.execute(f"SELECT typeof(CAST(NULL AS {kind}))").fetchone()[0])  # type: ignore[index]


def _typed_columns(types: Mapping[str, str]) -> list[Column]:
    return [Column(name, duckdb_type(kind)) for name, kind in types.items()]


def _dataclass_columns(cls: Any) -> list[Column]:
    """Columns from a dataclass's fields; ``X | None`` fields are nullable."""
    columns = []
    for field in dataclasses.fields(cls):
        annotation = field.type if isinstance(field.type, str) else str(field.type)
        base = annotation.split("|")[0].strip()
        kind = duckdb_type(_PYTHON_TYPES.get(base, "VARCHAR"))
        columns.append(Column(field.name, kind, "None" in annotation))
    return columns


def columns_of(table: str) -> list[Column]:
    """The columns of a warehouse table or of one of the declared non-table datasets."""
    if table in TABLES:
        columns = list(warehouse_columns()[table])
    elif table == RUN_HISTORY:
        from opinion_pipeline.operations.run_history import SCHEMA

        columns = _typed_columns(SCHEMA)
    elif table == SYNC_STATISTICS:
        from opinion_pipeline.operations.sync_stats import JobStats

        columns = _dataclass_columns(JobStats)
    elif table in DECLARED:
        columns = [
            Column(name, duckdb_type(kind), description=text)
            for name, kind, text in DECLARED[table]
        ]
    else:
        raise KeyError(f"no column schema for {table!r}")
    return [
        dataclasses.replace(column, description=_description(table, column)) for column in columns
    ]


def _description(table: str, column: Column) -> str | None:
    """The declared words, with the DDL comment in parentheses when there is one."""
    words = column.description or DESCRIPTIONS.get(table, {}).get(column.name)
    comment = ddl_comments().get(table, {}).get(column.name)
    if words and comment:
        return f"{words.rstrip('.')} ({comment})."
    return words or comment


def table_schema(table: str) -> dg.TableSchema:
    columns = columns_of(table)
    keys = [column.name for column in columns if column.unique]
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                column.name,
                column.type,
                description=column.description,
                constraints=dg.TableColumnConstraints(
                    nullable=column.nullable, unique=column.unique
                ),
            )
            for column in columns
        ],
        constraints=dg.TableConstraints(other=[_key_constraint(table, keys)]) if keys else None,
    )


def _key_constraint(table: str, keys: list[str]) -> str:
    if table in NATURAL_KEYS:
        return (
            f"unique key ({', '.join(keys)}), kept by the writer without an index and "
            "verified by the trade_keys_unique check"
        )
    return f"primary key ({', '.join(keys)})"


def column_schema(table: str) -> dict[str, dg.TableSchema]:
    """``metadata=`` for an asset: its ``dagster/column_schema`` from ``table``'s columns."""
    return {COLUMN_SCHEMA_KEY: table_schema(table)}
