"""Turn one wallet's raw trade rows into warehouse rows (validated) and rejects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, localcontext
from itertools import groupby
from typing import Any

import pandas as pd

from opinion_pipeline.defs.whale_trades.keys import KEY_FIELDS, trade_keys
from opinion_pipeline.defs.whale_trades.tables import TRADES
from opinion_pipeline.validation.checks import to_decimal
from opinion_pipeline.validation.frames import Reject, validate_rows
from opinion_pipeline.validation.schema import payload_schema

USD_QUANTUM = Decimal(1).scaleb(-18)

TRADE_COLUMNS = TRADES.frame_columns


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
    with localcontext() as exact:  # the default 28 digits would round, or raise, on big values
        exact.prec = 80
        return str((to_decimal(amount) * to_decimal(usd_price)).quantize(USD_QUANTUM))


def prepare_trades(wallet: str, raw_rows: Sequence[Any]) -> TradeBatch:
    """Validate and normalise the rows of one fetch for ``wallet`` (lowercase address)."""
    rows, rejects = prepare_trade_fetches([(wallet, raw_rows)])
    return TradeBatch(wallet=wallet, rows=rows, rejects=[reject for _, reject in rejects])


def _keys_by_fetch(
    fetch_of: Sequence[int], wallets: Sequence[str], fills: Iterable[tuple[Any, ...]]
) -> tuple[list[str], list[int]]:
    """Trade keys and occurrences, counted within each fetch (as ``prepare_trades`` does).

    Valid rows keep payload order, so each fetch's rows are one consecutive group.
    """
    keys: list[str] = []
    occurrences: list[int] = []
    rows = zip(fetch_of, wallets, fills, strict=True)
    for (_fetch, wallet), group in groupby(rows, key=lambda row: (row[0], row[1])):
        fetch_keys, fetch_occurrences = trade_keys(wallet, [fill for _, _, fill in group])
        keys.extend(fetch_keys)
        occurrences.extend(fetch_occurrences)
    return keys, occurrences


def prepare_trade_fetches(
    fetches: Sequence[tuple[str, Sequence[Any]]],
) -> tuple[pd.DataFrame, list[tuple[str, Reject]]]:
    """Validate the fetches of many wallets in one pandera pass; (rows, (wallet, reject)s).

    Why: pandera's cost is mostly per call (about 10 ms for any small frame), so validating a
    sync's wallets one by one spent a core's third on it at 14.4 wallets/s; one pass over the
    whole batch costs the same per row. Rows and keys are exactly those of ``prepare_trades``
    per wallet: occurrences are counted per wallet, in API order; reject positions are per fetch.
    """
    rows: list[Any] = []
    owners: list[int] = []  # index into fetches, per row
    starts: list[int] = []  # position in ``rows`` of each fetch's first row
    for index, (_wallet, raw_rows) in enumerate(fetches):
        starts.append(len(rows))
        rows.extend(_with_fee_alias(row) for row in raw_rows)
        owners.extend([index] * len(raw_rows))
    valid, flat_rejects = validate_rows(rows, payload_schema(TRADES))
    rejects = [
        (
            fetches[owners[reject.position]][0],
            replace(reject, position=reject.position - starts[owners[reject.position]]),
        )
        for reject in flat_rejects
    ]
    fetch_of = [owners[position] for position in valid.index]
    wallets = [fetches[index][0] for index in fetch_of]
    fills = valid[list(KEY_FIELDS)].itertuples(index=False, name=None)
    keys, occurrences = _keys_by_fetch(fetch_of, wallets, fills)
    frame = pd.DataFrame(
        {
            "trade_key": keys,
            "wallet": pd.Series(wallets, index=valid.index, dtype=object),
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
    return frame, rejects
