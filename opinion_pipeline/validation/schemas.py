"""pandera schemas for the API payloads the pipeline writes: trades and markets.

Each schema describes one raw row as the Opinion API reference defines it (shared/opinion-api.md).
Unknown fields are ignored (``strict=False``); the fields the warehouse needs are required.
"""

from __future__ import annotations

import pandera.pandas as pa

from opinion_pipeline.validation.checks import (
    ADDRESS_PATTERN,
    TOKEN_ID_PATTERN,
    TX_HASH_PATTERN,
    decimal_check,
    int_check,
    one_of_check,
    printable_check,
    string_check,
)

TRADE_SIDES = frozenset({"BUY", "SELL", "MERGE", "SPLIT"})
# Unix seconds up to the year 5138: anything larger is milliseconds or garbage (and far enough
# out, a timestamp DuckDB cannot hold).
UNIX_SECONDS_MAX = 99_999_999_999
# amount x quoteTokenUsdPrice must fit DECIMAL(38,18) too: < 10^14 x 10^6 = 10^20.
AMOUNT_MAX = "99999999999999"
QUOTE_USD_PRICE_MAX = "1000000"


def _col(*checks: pa.Check, nullable: bool = False) -> pa.Column:
    return pa.Column(object, checks=list(checks), nullable=nullable, required=True)


TRADE_SCHEMA = pa.DataFrameSchema(
    name="UserTradeData",
    strict=False,
    columns={
        "txHash": _col(string_check(TX_HASH_PATTERN, name="0x + 64 hex digits")),
        "marketId": _col(int_check(minimum=1)),
        "rootMarketId": _col(int_check(minimum=1), nullable=True),
        "marketTitle": _col(string_check(), nullable=True),
        "rootMarketTitle": _col(string_check(), nullable=True),
        "side": _col(one_of_check(TRADE_SIDES)),
        "outcome": _col(string_check(), nullable=True),
        "outcomeSide": _col(int_check(allowed=frozenset({1, 2}))),
        "price": _col(decimal_check(non_negative=True, at_most="1")),
        "shares": _col(decimal_check(non_negative=True)),
        "amount": _col(decimal_check(non_negative=True, at_most=AMOUNT_MAX)),
        "fee": _col(decimal_check(non_negative=True), nullable=True),
        "profit": _col(decimal_check(), nullable=True),
        "quoteToken": _col(string_check(ADDRESS_PATTERN, name="0x + 40 hex digits")),
        "quoteTokenUsdPrice": _col(decimal_check(non_negative=True, at_most=QUOTE_USD_PRICE_MAX)),
        # untrusted (sometimes scaled by 10^18): kept raw, as text
        "usdAmount": _col(printable_check(), nullable=True),
        "status": _col(int_check(minimum=0, maximum=32_767), nullable=True),  # SMALLINT
        "chainId": _col(string_check(), nullable=True),
        "createdAt": _col(int_check(minimum=1, maximum=UNIX_SECONDS_MAX)),
    },
)

MARKET_SCHEMA = pa.DataFrameSchema(
    name="MarketData",
    strict=False,
    columns={
        "marketId": _col(int_check(minimum=1)),
        "parentMarketId": _col(int_check(minimum=1), nullable=True),  # set on children
        "marketTitle": _col(string_check()),
        "status": _col(int_check(allowed=frozenset(range(1, 7)))),
        "statusEnum": _col(string_check(), nullable=True),
        "marketType": _col(int_check(allowed=frozenset({0, 1}))),
        "yesLabel": _col(string_check(), nullable=True),
        "noLabel": _col(string_check(), nullable=True),
        "rules": _col(string_check(), nullable=True),
        "yesTokenId": _col(string_check(TOKEN_ID_PATTERN, name="decimal digits"), nullable=True),
        "noTokenId": _col(string_check(TOKEN_ID_PATTERN, name="decimal digits"), nullable=True),
        "conditionId": _col(string_check(), nullable=True),
        "resultTokenId": _col(string_check(), nullable=True),
        "questionId": _col(string_check(), nullable=True),
        "volume": _col(decimal_check(non_negative=True), nullable=True),
        "volume24h": _col(decimal_check(non_negative=True), nullable=True),
        "volume7d": _col(decimal_check(non_negative=True), nullable=True),
        "quoteToken": _col(string_check(ADDRESS_PATTERN, name="0x + 40 hex digits")),
        "chainId": _col(string_check(), nullable=True),
        "createdAt": _col(int_check(minimum=0, maximum=UNIX_SECONDS_MAX)),
        "cutoffAt": _col(int_check(minimum=0, maximum=UNIX_SECONDS_MAX), nullable=True),
        "resolvedAt": _col(int_check(minimum=0, maximum=UNIX_SECONDS_MAX), nullable=True),
    },
)
