"""The trades of the tracked whales, the feed of their big trades, and the archived trade keys.

``trades`` is the one table whose natural key is not a PRIMARY KEY: DuckDB backs a primary key
with an in-memory ART index, which on ``trades`` doubled the file, tripled the memory of every
sync and made writes 2-4x slower (BENCHMARKS.md, "Warehouse writes"). Its key is kept unique
by its only writer (``store.insert_trades``: an anti-join under the warehouse lock, in the
write's transaction) and checked after every sync by the ``trade_keys_unique`` asset check.
"""

from opinion_pipeline.tables import MONEY, TIMESTAMP, Column, RowLimits, Source, Table
from opinion_pipeline.validation.checks import (
    ADDRESS_PATTERN,
    TX_HASH_PATTERN,
    UNIX_SECONDS_MAX,
    decimal_check,
    int_check,
    one_of_check,
    printable_check,
    string_check,
)

TRADE_SIDES = frozenset({"BUY", "SELL", "MERGE", "SPLIT"})
# amount x quoteTokenUsdPrice must fit DECIMAL(38,18) too: < 10^14 x 10^6 = 10^20.
AMOUNT_MAX = "99999999999999"
QUOTE_USD_PRICE_MAX = "1000000"
_UTC = "(UTC)"


def _text(field: str) -> Source:
    return Source(field, string_check(), nullable=True)


TRADES = Table(
    name="trades",
    row_limits=RowLimits(warn=5_000_000, error=20_000_000),  # every fill of every whale
    payload="UserTradeData",
    description="Every trade of every tracked whale, deduplicated on trade_key.",
    key=("trade_key",),
    key_kind="writer",
    columns=(
        Column("trade_key", "VARCHAR",
               "Natural key: hash of the fill's fields plus its occurrence (see keys.py).",
               nullable=False, derived=True),
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False,
               derived=True),
        Column("tx_hash", "VARCHAR",
               "Transaction hash (one transaction may settle several fills).", nullable=False,
               source=Source("txHash", string_check(TX_HASH_PATTERN, name="0x + 64 hex digits"))),
        Column("market_id", "BIGINT",
               "Market traded (a categorical child for categorical markets).", nullable=False,
               source=Source("marketId", int_check(minimum=1))),
        Column("root_market_id", "BIGINT",
               "Parent market of a categorical child; the market itself for binary markets.",
               source=Source("rootMarketId", int_check(minimum=1), nullable=True)),
        Column("market_title", "VARCHAR", "Title of the market traded, as sent with the trade.",
               source=_text("marketTitle")),
        Column("root_market_title", "VARCHAR",
               "Title of the parent market, as sent with the trade.",
               source=_text("rootMarketTitle")),
        Column("side", "VARCHAR", "Trade side, normalised: BUY, SELL, MERGE or SPLIT.",
               nullable=False, source=Source("side", one_of_check(TRADE_SIDES))),
        Column("outcome", "VARCHAR", "Outcome label traded.", source=_text("outcome")),
        Column("outcome_side", "SMALLINT", "Outcome side: 1 Yes, 2 No.", nullable=False,
               source=Source("outcomeSide", int_check(allowed=frozenset({1, 2})))),
        Column("price", MONEY, "Price per share (quote token).", nullable=False,
               source=Source("price", decimal_check(non_negative=True, at_most="1"))),
        Column("shares", MONEY, "Shares traded.", nullable=False,
               source=Source("shares", decimal_check(non_negative=True))),
        Column("amount", MONEY, "Amount paid or received (quote token, USDT).", nullable=False,
               source=Source("amount", decimal_check(non_negative=True, at_most=AMOUNT_MAX))),
        Column("fee", MONEY, "Fee paid (quote token).",
               source=Source("fee", decimal_check(non_negative=True), nullable=True)),
        Column("profit", MONEY, "Realized profit reported on sells and merges (quote token).",
               source=Source("profit", decimal_check(), nullable=True)),
        Column("quote_token", "VARCHAR", "Quote token contract address, lowercase.",
               nullable=False,
               source=Source("quoteToken", string_check(ADDRESS_PATTERN,
                                                        name="0x + 40 hex digits"))),
        Column("quote_token_usd_price", MONEY, "USD price of the quote token at the trade.",
               nullable=False,
               source=Source("quoteTokenUsdPrice",
                             decimal_check(non_negative=True, at_most=QUOTE_USD_PRICE_MAX))),
        Column("usd_value", MONEY, "USD value of the trade: amount x quote_token_usd_price.",
               nullable=False, derived=True),
        Column("usd_amount_reported", "VARCHAR",
               "The API's usdAmount, untrusted (sometimes scaled by 10^18), as sent.",
               source=Source("usdAmount", printable_check(), nullable=True)),
        Column("status", "SMALLINT", "Trade status code as sent by the API.",
               source=Source("status", int_check(minimum=0, maximum=32_767), nullable=True)),
        Column("chain_id", "VARCHAR", "Chain the trade settled on.", source=_text("chainId")),
        Column("created_at", TIMESTAMP, f"When the trade happened {_UTC}.", nullable=False,
               source=Source("createdAt", int_check(minimum=1, maximum=UNIX_SECONDS_MAX))),
        Column("occurrence", "INTEGER",
               "Tells identical fills apart: 0, or n for the n-th identical twin fill.",
               nullable=False, derived=True),
        Column("market_known", "BOOLEAN",
               "Whether the markets table had the market (false until the sweep has seen it).",
               nullable=False),
        Column("ingested_at", TIMESTAMP, f"When the pipeline stored the trade {_UTC}.",
               nullable=False),
        Column("run_id", "VARCHAR", "Dagster run that stored the trade."),
    ),
)  # fmt: skip

WHALE_ACTIVITY = Table(
    name="whale_activity",
    row_limits=RowLimits(warn=1_000_000, error=5_000_000),  # the seed warned at 1M activity rows
    description="New whale trades worth at least OPINION_WHALE_ALERT_USD, with the whale's label.",
    key=("trade_key",),
    columns=(
        Column("trade_key", "VARCHAR", "Key of the trade in the trades table.", nullable=False),
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False),
        Column("label", "VARCHAR", "The whale's label from the registry."),
        Column("market_id", "BIGINT", "Market traded.", nullable=False),
        Column("market_title", "VARCHAR", "Title of the market traded."),
        Column("side", "VARCHAR", "BUY, SELL, MERGE or SPLIT.", nullable=False),
        Column("outcome", "VARCHAR", "Outcome label traded."),
        Column("usd_value", MONEY, "USD value of the trade (at least OPINION_WHALE_ALERT_USD).",
               nullable=False),
        Column("created_at", TIMESTAMP, f"When the trade happened {_UTC}.", nullable=False),
        Column("detected_at", TIMESTAMP, f"When the sync that found the trade ran {_UTC}.",
               nullable=False),
        Column("run_id", "VARCHAR", "Dagster run that found the trade."),
    ),
)  # fmt: skip

# Trades moved to the archive: a sync that reads one again (a whale's first page, or the whole
# history of a whale whose trades are all archived) must not store it twice, and a whale's
# watermark must survive the archiving of its newest trade.
ARCHIVED_TRADES = Table(
    name="archived_trades",
    description="Keys of trades moved to the Parquet archive, so they are never stored again.",
    key=("trade_key",),
    columns=(
        Column("trade_key", "VARCHAR", "Key of the archived trade.", nullable=False),
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False),
        Column("created_at", TIMESTAMP, f"When the trade happened {_UTC}.", nullable=False),
    ),
)  # fmt: skip

# The completeness ledger (coverage.py): per wallet, the venue's own count of its trades (the
# ``total`` of the trades route) against what the warehouse accounts for. New tables, so no
# migration: the catalog creates them on the next open.
TRADE_COVERAGE = Table(
    name="trade_coverage",
    row_limits=RowLimits(warn=10_000, error=100_000),
    description="Per whale: the venue's trade count against stored + archived + quarantined.",
    key=("wallet",),
    columns=(
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False),
        Column("venue_total", "BIGINT",
               "The last `total` the trades route reported: every trade the venue holds.",
               nullable=False),
        Column("stored", "BIGINT", "Trades of the wallet in the trades table.", nullable=False),
        Column("archived", "BIGINT", "Trades of the wallet moved to the archive.",
               nullable=False),
        Column("quarantined", "BIGINT",
               "Unresolved quarantined trade rows of the wallet (resolved ones are stored "
               "trades and count there, once).", nullable=False),
        Column("accounted", "BIGINT", "stored + archived + quarantined.", nullable=False),
        Column("gap", "BIGINT",
               "venue_total - accounted: > 0 trades missing, < 0 more accounted than the venue "
               "holds; 0 = proven complete.", nullable=False),
        Column("complete_through", TIMESTAMP,
               f"Newest trade time up to which the history was last proven complete {_UTC}."),
        Column("checked_at", TIMESTAMP, f"When the count was last compared {_UTC}.",
               nullable=False),
        Column("gap_since", TIMESTAMP,
               f"When the current gap was first seen {_UTC}; NULL while complete."),
        Column("repairs", "INTEGER", "Repairs (full re-reads) tried on the current gap.",
               nullable=False, default="0"),
        Column("last_repair_at", TIMESTAMP, f"When the wallet was last repaired {_UTC}."),
        Column("last_repair_outcome", "VARCHAR",
               "Outcome of the last repair: closed, persists, or failed (the read failed)."),
    ),
)  # fmt: skip

TRADE_REPAIRS = Table(
    name="trade_repairs",
    row_limits=RowLimits(warn=100_000, error=1_000_000),
    description="Every repair of a wallet's trade history (a full re-read) and its outcome.",
    key=("repair_key",),
    columns=(
        Column("repair_key", "VARCHAR", "Natural key: wallet|run id|Unix time of the write.",
               nullable=False),
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False),
        Column("repaired_at", TIMESTAMP, f"When the repair was written {_UTC}.", nullable=False),
        Column("run_id", "VARCHAR", "Dagster run that repaired it."),
        Column("pages", "INTEGER", "Requests the re-read took.", nullable=False),
        Column("gap_before", "BIGINT", "The gap the repair was for.", nullable=False),
        Column("gap_after", "BIGINT", "The gap after the repair's write.", nullable=False),
        Column("trades_recovered", "BIGINT", "Trades the repair stored that were missing.",
               nullable=False),
        Column("outcome", "VARCHAR", "closed (gap 0 now) or persists.", nullable=False),
    ),
)  # fmt: skip

# The polling planner's view of each whale (planner.py), rewritten by every whale-sync run from
# the warehouse itself; for the UI and for operators ("why was this whale not polled?").
WHALE_POLLING = Table(
    name="whale_polling",
    row_limits=RowLimits(warn=20_000, error=200_000),
    description="Per whale, as the last whale-sync run planned it: rate, expected trades, due.",
    key=("wallet",),
    columns=(
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False),
        Column("trades_per_hour", "DOUBLE",
               "Estimated trade rate: max(1-hour exponentially weighted, 30-day mean, prior).",
               nullable=False),
        Column("expected_new", "DOUBLE",
               "Expected new trades at planning: rate x time since the last poll.",
               nullable=False),
        Column("planned", "BOOLEAN", "Whether the last run polled it.", nullable=False),
        Column("next_due_at", TIMESTAMP,
               f"When it is due next: last poll + its target interval (busy tier or the rest), "
               f"at the latest last poll + OPINION_MAX_POLL_INTERVAL_MINUTES {_UTC}.",
               nullable=False),
        Column("planned_at", TIMESTAMP, f"When the last run planned {_UTC}.", nullable=False),
    ),
)  # fmt: skip
