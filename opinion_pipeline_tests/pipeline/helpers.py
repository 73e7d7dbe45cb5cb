"""Helpers for pipeline tests: run jobs on a real instance, compare with the ground truth."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb

from opinion_pipeline.definitions import build_definitions

ROOT = Path(__file__).resolve().parents[2]  # the repository: dagster.yaml, workspace.yaml, deploy/


def run_job(instance: dg.DagsterInstance, job_name: str, **kwargs) -> dg.ExecuteInProcessResult:
    job = build_definitions().resolve_job_def(job_name)
    return job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)


def fill_identity(wallet: str, row: dict) -> tuple:
    """What makes a fill a fill, comparable between the API's rows and the warehouse's."""
    return (
        wallet.lower(),
        str(row["txHash"]).lower(),
        int(row["marketId"]),
        str(row["side"]).upper(),
        Decimal(str(row["price"])),
        Decimal(str(row["shares"])),
        Decimal(str(row["amount"])),
        int(row["createdAt"]),
    )


def truth_fills(truth_trades: list[dict]) -> Counter:
    return Counter(fill_identity(row["walletAddress"], row) for row in truth_trades)


def warehouse_fills(conn: duckdb.DuckDBPyConnection) -> Counter:
    rows = conn.execute(
        """
        SELECT wallet, tx_hash, market_id, side, price, shares, amount,
               CAST(epoch(created_at) AS BIGINT)
        FROM trades
        """
    ).fetchall()
    return Counter(
        (wallet, tx, int(market), side, Decimal(price), Decimal(shares), Decimal(amount), int(ts))
        for wallet, tx, market, side, price, shares, amount, ts in rows
    )


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """Every message of the first step failure, causes included."""
    error = result.get_step_failure_events()[0].step_failure_data.error
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)
