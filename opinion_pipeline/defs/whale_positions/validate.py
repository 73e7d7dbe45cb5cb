"""Validate position rows (pandera, from the column spec) and shape them for the warehouse."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal, localcontext
from typing import Any

import pandas as pd

from opinion_pipeline.defs.whale_positions.tables import POSITION_SNAPSHOTS, WHALE_POSITIONS
from opinion_pipeline.validation.frames import Reject, validate_rows
from opinion_pipeline.validation.schema import payload_schema

POSITION_COLUMNS = WHALE_POSITIONS.frame_columns
SNAPSHOT_COLUMNS = POSITION_SNAPSHOTS.frame_columns
QUANTUM = Decimal(1).scaleb(-18)


def position_key(wallet: str, market_id: int, outcome_side: int, snapshot_at: int) -> str:
    text = f"{wallet.lower()}|{int(market_id)}|{int(outcome_side)}|{int(snapshot_at)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def snapshot_key(wallet: str, snapshot_at: int) -> str:
    return hashlib.sha256(f"{wallet.lower()}|{int(snapshot_at)}".encode()).hexdigest()[:32]


def mark_price(value: str, shares: str) -> str | None:
    """The token's price implied by the snapshot (value / shares), to 18 decimals."""
    owned = Decimal(shares)
    if not owned:
        return None
    with localcontext() as context:
        context.prec = 60
        return str((Decimal(value) / owned).quantize(QUANTUM))


def _none_if_zero(value: Any) -> Any:
    return None if value in (None, 0) else int(value)


def prepare_positions(
    fetches: Sequence[tuple[str, Sequence[Any]]], snapshot_at: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, Reject]]]:
    """(position rows, one snapshot row per wallet, (wallet, reject)s) for a batch of fetches.

    A key repeated within a wallet's answer (a page shift repeats a row) is stored once.
    """
    rows: list[Any] = []
    owners: list[int] = []
    starts: list[int] = []
    for index, (_wallet, raw) in enumerate(fetches):
        starts.append(len(rows))
        rows.extend(raw)
        owners.extend([index] * len(raw))
    valid, flat_rejects = validate_rows(rows, payload_schema(WHALE_POSITIONS))
    rejects = [
        (
            fetches[owners[r.position]][0],
            replace(r, position=r.position - starts[owners[r.position]]),
        )
        for r in flat_rejects
    ]
    wallets = [fetches[owners[position]][0].lower() for position in valid.index]
    keys = [
        position_key(wallet, market, side, snapshot_at)
        for wallet, market, side in zip(
            wallets, valid["marketId"], valid["outcomeSide"], strict=True
        )
    ]
    frame = pd.DataFrame(
        {
            "position_key": pd.Series(keys, index=valid.index, dtype=object),
            "wallet": pd.Series(wallets, index=valid.index, dtype=object),
            "market_id": valid["marketId"].astype("int64"),
            "outcome_side": valid["outcomeSide"].astype("int64"),
            "snapshot_at": snapshot_at,
            "market_title": valid["marketTitle"],
            "market_status": valid["marketStatus"].astype("int64"),
            "market_status_enum": valid["marketStatusEnum"],
            "market_cutoff_at": valid["marketCutoffAt"].map(_none_if_zero).astype(object),
            "root_market_id": valid["rootMarketId"],
            "root_market_title": valid["rootMarketTitle"],
            "outcome": valid["outcome"],
            "shares_owned": valid["sharesOwned"],
            "shares_frozen": valid["sharesFrozen"],
            "unrealized_pnl": valid["unrealizedPnl"],
            "unrealized_pnl_percent": valid["unrealizedPnlPercent"],
            "daily_pnl_change": valid["dailyPnlChange"],
            "daily_pnl_change_percent": valid["dailyPnlChangePercent"],
            "condition_id": valid["conditionId"],
            "token_id": valid["tokenId"],
            "current_value": valid["currentValueInQuoteToken"],
            "mark_price": [
                mark_price(value, shares)
                for value, shares in zip(
                    valid["currentValueInQuoteToken"], valid["sharesOwned"], strict=True
                )
            ],
            "avg_entry_price": valid["avgEntryPrice"],
            "claim_status": valid["claimStatus"].astype("int64"),
            "claim_status_enum": valid["claimStatusEnum"],
            "quote_token": valid["quoteToken"].map(lambda v: v.lower() if v else v),
        },
        columns=POSITION_COLUMNS,
    )
    frame = frame.drop_duplicates(subset=["position_key"]).reset_index(drop=True)
    stored = frame.groupby("wallet").size().to_dict() if not frame.empty else {}
    rejected: dict[str, int] = {}
    for wallet, _reject in rejects:
        rejected[wallet.lower()] = rejected.get(wallet.lower(), 0) + 1
    snapshots = pd.DataFrame(
        {
            "snapshot_key": [snapshot_key(wallet, snapshot_at) for wallet, _ in fetches],
            "wallet": [wallet.lower() for wallet, _ in fetches],
            "snapshot_at": snapshot_at,
            "positions": [int(stored.get(wallet.lower(), 0)) for wallet, _ in fetches],
            "rejected": [rejected.get(wallet.lower(), 0) for wallet, _ in fetches],
            "complete": [not rejected.get(wallet.lower(), 0) for wallet, _ in fetches],
        },
        columns=SNAPSHOT_COLUMNS,
    )
    return frame, snapshots, rejects
