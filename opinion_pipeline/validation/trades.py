"""Turn one wallet's raw trade rows into warehouse rows (validated) and rejects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from opinion_pipeline.validation.checks import to_decimal
from opinion_pipeline.validation.frames import Reject, validate_rows
from opinion_pipeline.validation.keys import KEY_FIELDS, trade_keys
from opinion_pipeline.validation.schemas import TRADE_SCHEMA

USD_QUANTUM = Decimal(1).scaleb(-18)

TRADE_COLUMNS = [
    "trade_key",
    "wallet",
    "tx_hash",
    "market_id",
    "root_market_id",
    "market_title",
    "root_market_title",
    "side",
    "outcome",
    "outcome_side",
    "price",
    "shares",
    "amount",
    "fee",
    "profit",
    "quote_token",
    "quote_token_usd_price",
    "usd_value",
    "usd_amount_reported",
    "status",
    "chain_id",
    "created_at",
    "occurrence",
]


@dataclass(frozen=True)
class TradeBatch:
    wallet: str
    rows: pd.DataFrame  # TRADE_COLUMNS; decimals as strings, created_at as Unix seconds
    rejects: list[Reject]


def _with_fee_alias(row: Any) -> Any:
    """The own-account route names the fee ``feeFormatted``; accept either."""
    if isinstance(row, dict) and "fee" not in row and "feeFormatted" in row:
        return {**row, "fee": row["feeFormatted"]}
    return row


def usd_value(amount: str, usd_price: str) -> str:
    """USD value of a fill: amount (quote token) x quoteTokenUsdPrice, exact to 18 decimals.

    ``usdAmount`` from the API is not used: one live source saw it scaled by 10^18.
    """
    return str((to_decimal(amount) * to_decimal(usd_price)).quantize(USD_QUANTUM))


def prepare_trades(wallet: str, raw_rows: Sequence[Any]) -> TradeBatch:
    """Validate and normalise the rows of one fetch for ``wallet`` (lowercase address)."""
    rows = [_with_fee_alias(row) for row in raw_rows]
    valid, rejects = validate_rows(rows, TRADE_SCHEMA)
    keys, occurrences = trade_keys(wallet, valid[list(KEY_FIELDS)].itertuples(index=False))
    frame = pd.DataFrame(
        {
            "trade_key": keys,
            "wallet": wallet,
            "tx_hash": valid["txHash"].str.lower(),
            "market_id": valid["marketId"].astype("int64"),
            "root_market_id": valid["rootMarketId"].where(valid["rootMarketId"].notna(), None),
            "market_title": valid["marketTitle"],
            "root_market_title": valid["rootMarketTitle"],
            "side": valid["side"].str.upper(),
            "outcome": valid["outcome"],
            "outcome_side": valid["outcomeSide"].astype("int64"),
            "price": valid["price"],
            "shares": valid["shares"],
            "amount": valid["amount"],
            "fee": valid["fee"],
            "profit": valid["profit"],
            "quote_token": valid["quoteToken"].str.lower(),
            "quote_token_usd_price": valid["quoteTokenUsdPrice"],
            "usd_value": [
                usd_value(amount, price)
                for amount, price in zip(valid["amount"], valid["quoteTokenUsdPrice"], strict=True)
            ],
            "usd_amount_reported": valid["usdAmount"].map(
                lambda value: None if value is None else str(value)
            ),
            "status": valid["status"],
            "chain_id": valid["chainId"],
            "created_at": valid["createdAt"].astype("int64"),
            "occurrence": occurrences,
        },
        columns=TRADE_COLUMNS,
    ).reset_index(drop=True)
    return TradeBatch(wallet=wallet, rows=frame, rejects=rejects)
