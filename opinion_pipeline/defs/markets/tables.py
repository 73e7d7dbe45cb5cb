"""The markets table: one row per market and per categorical child, keyed on market_id."""

from opinion_pipeline.tables import MONEY, TIMESTAMP, Column, RowLimits, Source, Table
from opinion_pipeline.validation.checks import (
    ADDRESS_PATTERN,
    TOKEN_ID_PATTERN,
    UNIX_SECONDS_MAX,
    decimal_check,
    int_check,
    string_check,
)

_UTC = "(UTC)"
_ADDRESS = string_check(ADDRESS_PATTERN, name="0x + 40 hex digits")
_TOKEN_ID = string_check(TOKEN_ID_PATTERN, name="decimal digits")
_SECONDS = int_check(minimum=0, maximum=UNIX_SECONDS_MAX)


def _text(field: str, *, nullable: bool = True) -> Source:
    return Source(field, string_check(), nullable=nullable)


def _volume(field: str) -> Source:
    return Source(field, decimal_check(non_negative=True), nullable=True)


MARKETS = Table(
    name="markets",
    row_limits=RowLimits(warn=200_000, error=2_000_000),
    payload="MarketData",
    description="Every market (binary and categorical, every status), upserted on market_id.",
    key=("market_id",),
    columns=(
        Column(
            "market_id", "BIGINT", "Opinion market id (natural key).", nullable=False,
            source=Source("marketId", int_check(minimum=1)),
        ),
        Column(
            "parent_market_id", "BIGINT", "Parent market of a categorical child; set on children.",
            source=Source("parentMarketId", int_check(minimum=1), nullable=True),
        ),
        Column(
            "market_type", "SMALLINT", "Market type: 0 binary, 1 categorical.", nullable=False,
            source=Source("marketType", int_check(allowed=frozenset({0, 1}))),
        ),
        Column("title", "VARCHAR", "Market title as listed.", nullable=False,
               source=_text("marketTitle", nullable=False)),
        Column(
            "status", "SMALLINT", "Numeric market status: 1 Created .. 6 Deleted.", nullable=False,
            source=Source("status", int_check(allowed=frozenset(range(1, 7)))),
        ),
        Column("status_enum", "VARCHAR",
               "Status name sent with the numeric status (e.g. Activated, Resolved).",
               source=_text("statusEnum")),
        Column("yes_label", "VARCHAR", "Label of the Yes outcome.", source=_text("yesLabel")),
        Column("no_label", "VARCHAR", "Label of the No outcome.", source=_text("noLabel")),
        Column("rules", "VARCHAR", "Resolution rules text.", source=_text("rules")),
        Column("yes_token_id", "VARCHAR", "uint256 token id of the Yes outcome, as text.",
               source=Source("yesTokenId", _TOKEN_ID, nullable=True)),
        Column("no_token_id", "VARCHAR", "uint256 token id of the No outcome, as text.",
               source=Source("noTokenId", _TOKEN_ID, nullable=True)),
        Column("condition_id", "VARCHAR", "On-chain condition id.", source=_text("conditionId")),
        Column("result_token_id", "VARCHAR", "Token id of the winning outcome once resolved.",
               source=_text("resultTokenId")),
        Column("question_id", "VARCHAR", "On-chain question id.", source=_text("questionId")),
        Column("volume", MONEY, "Total traded volume reported by the API (quote token).",
               source=_volume("volume")),
        Column("volume_24h", MONEY, "Volume over the last 24 h reported by the API.",
               source=_volume("volume24h")),
        Column("volume_7d", MONEY, "Volume over the last 7 days reported by the API.",
               source=_volume("volume7d")),
        Column("quote_token", "VARCHAR", "Quote token contract address, lowercase.",
               source=Source("quoteToken", _ADDRESS)),
        Column("chain_id", "VARCHAR", "Chain the market settles on.", source=_text("chainId")),
        Column("created_at", TIMESTAMP, f"When the market was created {_UTC}; NULL if unset.",
               source=Source("createdAt", _SECONDS)),
        Column("cutoff_at", TIMESTAMP, f"When trading stops {_UTC}; NULL if unset.",
               source=Source("cutoffAt", _SECONDS, nullable=True)),
        Column("resolved_at", TIMESTAMP,
               f"When the market resolved {_UTC}; NULL until resolved.",
               source=Source("resolvedAt", _SECONDS, nullable=True)),
        Column("slug", "VARCHAR", "URL slug on opinion.trade (an undocumented extra).",
               derived=True),
        Column("labels", "VARCHAR", "Market labels: the JSON array as sent.", derived=True),
        Column("first_seen_at", TIMESTAMP,
               f"When the market sweep first stored this market {_UTC}.", nullable=False),
        Column("updated_at", TIMESTAMP,
               f"When the market sweep last upserted this row {_UTC}.", nullable=False),
    ),
)  # fmt: skip
