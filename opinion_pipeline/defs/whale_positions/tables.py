"""Snapshots of the tracked whales' positions (contract 3.4), and which snapshots were taken.

``whale_positions`` is a time series: every snapshot of a whale stores all its positions, keyed
on (wallet, market_id, outcome_side, snapshot_at), hashed into ``position_key`` so the writer
can keep it unique with an anti-join rather than a PRIMARY KEY index (the index's cost on a
growing table is why ``trades`` has none either). ``position_snapshots`` records each snapshot
taken, with how many rows it held, even when the whale held nothing: a position that is gone
from a complete snapshot was closed (or redeemed), which an absent row alone cannot tell.
"""

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
_STATUS = int_check(allowed=frozenset(range(1, 7)))


def _text(field: str) -> Source:
    return Source(field, string_check(), nullable=True)


def _money(field: str, *, non_negative: bool = False, nullable: bool = True) -> Source:
    return Source(field, decimal_check(non_negative=non_negative), nullable=nullable)


WHALE_POSITIONS = Table(
    name="whale_positions",
    # one row per open position per whale per snapshot (every 15-60 min)
    row_limits=RowLimits(warn=5_000_000, error=20_000_000),
    payload="PositionData",
    description="Every snapshot of every tracked whale's positions (/positions/user/{wallet}).",
    key=("position_key",),
    key_kind="writer",
    columns=(
        Column("position_key", "VARCHAR", "Natural key: hash of (wallet, market_id, "
               "outcome_side, snapshot_at), kept unique by its writer (store.py).",
               nullable=False, derived=True),
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False,
               derived=True),
        Column("market_id", "BIGINT", "Market held (a categorical child for categoricals).",
               nullable=False, source=Source("marketId", int_check(minimum=1))),
        Column("outcome_side", "SMALLINT", "Outcome side held: 1 Yes, 2 No.", nullable=False,
               source=Source("outcomeSide", int_check(allowed=frozenset({1, 2})))),
        Column("snapshot_at", TIMESTAMP, f"When the snapshot was taken {_UTC}.", nullable=False,
               derived=True),
        Column("market_title", "VARCHAR", "Market title as sent.", source=_text("marketTitle")),
        Column("market_status", "SMALLINT", "Market status at the snapshot: 1 Created .. 6.",
               nullable=False, source=Source("marketStatus", _STATUS)),
        Column("market_status_enum", "VARCHAR", "Market status name as sent.",
               source=_text("marketStatusEnum")),
        Column("market_cutoff_at", TIMESTAMP, f"When the market stops trading {_UTC}; NULL if "
               "unset.", source=Source("marketCutoffAt",
                                       int_check(minimum=0, maximum=UNIX_SECONDS_MAX),
                                       nullable=True)),
        Column("root_market_id", "BIGINT", "Parent market of a categorical child, else itself.",
               source=Source("rootMarketId", int_check(minimum=1), nullable=True)),
        Column("root_market_title", "VARCHAR", "Parent market title as sent.",
               source=_text("rootMarketTitle")),
        Column("outcome", "VARCHAR", "Outcome label held.", source=_text("outcome")),
        Column("shares_owned", MONEY, "Shares held.", nullable=False,
               source=_money("sharesOwned", non_negative=True, nullable=False)),
        Column("shares_frozen", MONEY, "Shares locked in open orders.",
               source=_money("sharesFrozen", non_negative=True)),
        Column("unrealized_pnl", MONEY, "The API's unrealized PnL (quote token), as sent.",
               source=_money("unrealizedPnl")),
        Column("unrealized_pnl_percent", MONEY, "The API's unrealized PnL in percent.",
               source=_money("unrealizedPnlPercent")),
        Column("daily_pnl_change", MONEY, "The API's 24 h PnL change (quote token).",
               source=_money("dailyPnlChange")),
        Column("daily_pnl_change_percent", MONEY, "The API's 24 h PnL change in percent.",
               source=_money("dailyPnlChangePercent")),
        Column("condition_id", "VARCHAR", "On-chain condition id.", source=_text("conditionId")),
        Column("token_id", "VARCHAR", "uint256 id of the outcome token held, as text.",
               nullable=False,
               source=Source("tokenId", string_check(TOKEN_ID_PATTERN, name="decimal digits"))),
        Column("current_value", MONEY, "currentValueInQuoteToken: the shares at the current "
               "price (quote token).", nullable=False,
               source=_money("currentValueInQuoteToken", non_negative=True, nullable=False)),
        Column("mark_price", MONEY, "current_value / shares_owned: the token's price at the "
               "snapshot (NULL when no shares).", derived=True),
        Column("avg_entry_price", MONEY, "The API's average entry price.",
               source=_money("avgEntryPrice", non_negative=True)),
        Column("claim_status", "SMALLINT", "0 None, 1 Claimable, 2 Claiming, 3 Claimed, 4 Failed.",
               nullable=False, source=Source("claimStatus", int_check(minimum=0, maximum=4))),
        Column("claim_status_enum", "VARCHAR", "Claim status name as sent.",
               source=_text("claimStatusEnum")),
        Column("quote_token", "VARCHAR", "Quote token contract address, lowercase.",
               source=Source("quoteToken",
                             string_check(ADDRESS_PATTERN, name="0x + 40 hex digits"),
                             nullable=True)),
        Column("run_id", "VARCHAR", "Dagster run that took the snapshot."),
    ),
)  # fmt: skip

POSITION_SNAPSHOTS = Table(
    name="position_snapshots",
    row_limits=RowLimits(warn=1_000_000, error=5_000_000),
    description="One row per positions snapshot of a whale: when, how many rows, complete.",
    key=("snapshot_key",),
    columns=(
        Column("snapshot_key", "VARCHAR", "Natural key: hash of (wallet, snapshot_at).",
               nullable=False, derived=True),
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False,
               derived=True),
        Column("snapshot_at", TIMESTAMP, f"When the snapshot was taken {_UTC}.", nullable=False,
               derived=True),
        Column("positions", "INTEGER", "Position rows stored for it.", nullable=False,
               derived=True),
        Column("rejected", "INTEGER", "Rows of it that failed validation (quarantined).",
               nullable=False, derived=True),
        Column("complete", "BOOLEAN", "Every row passed validation: position_changes may "
               "read an absent position as closed.", nullable=False, derived=True),
        Column("run_id", "VARCHAR", "Dagster run that took it."),
    ),
)  # fmt: skip
