"""PnL per whale and position (market, outcome side), and per whale in total.

Money is in the quote token (USDT, ~USD), DECIMAL(38,18), computed without float. The rules
(README "PnL and skill"): all fees are realized costs; a resolved market pays 1 per winning share
and 0 per losing share whether or not the whale claimed; an open position's cost basis is its
shares held x the average price of its buys.
"""

from opinion_pipeline.tables import MONEY, TIMESTAMP, Column, RowLimits, Table

_UTC = "(UTC)"
_Q = "(quote token)"

WHALE_POSITION_PNL = Table(
    name="whale_position_pnl",
    row_limits=RowLimits(warn=1_000_000, error=5_000_000),
    description="Per whale, market and outcome side: what was bought, sold, paid and made.",
    key=("wallet", "market_id", "outcome_side"),
    # Rewritten in full by its only writer (compute.py) from a GROUP BY on the key: unique by
    # construction, and a PRIMARY KEY index would cost more than the rest of the recompute.
    key_kind="writer",
    columns=(
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False),
        Column("market_id", "BIGINT", "Market traded (a categorical child).", nullable=False),
        Column("outcome_side", "SMALLINT", "1 Yes, 2 No.", nullable=False),
        Column("market_title", "VARCHAR", "Market title as sent with the trades."),
        Column("shares_bought", MONEY, "Shares bought (BUY, SPLIT)."),
        Column("cost", MONEY, f"Amount paid for them {_Q}: the capital deployed."),
        Column("shares_sold", MONEY, "Shares sold or merged (SELL, MERGE)."),
        Column("proceeds", MONEY, f"Amount received for them {_Q}."),
        Column("fees", MONEY, f"Fees paid on every trade {_Q}."),
        Column("shares_held", MONEY, "bought - sold (negative: trades are missing)."),
        Column("market_status", "SMALLINT", "The market sweep's status (NULL: market unknown)."),
        Column("resolved", "BOOLEAN", "The market is Resolved with a result token."),
        Column("decided", "BOOLEAN", "Resolved while shares were held: counts for the win rate."),
        Column("won", "BOOLEAN", "Decided, on the side of the result token."),
        Column("payout", MONEY, f"1 per winning share held at resolution, else 0 {_Q}; "
               "counted whether or not the whale claimed."),
        Column("cost_basis", MONEY, f"Open position: shares held x average buy price {_Q}."),
        Column("mark_price", MONEY, "Open position: the latest price the pipeline has."),
        Column("mark_at", TIMESTAMP, f"When that price was seen {_UTC}."),
        Column("mark_source", "VARCHAR", "snapshot (whale_positions) or trade."),
        Column("realized_pnl", MONEY, f"Proceeds + payout - cost of what was disposed - fees "
               f"{_Q}."),
        Column("unrealized_pnl", MONEY, f"Open shares x mark price - cost basis {_Q}; NULL "
               "when no price is known."),
        Column("net_pnl", MONEY, f"realized + unrealized {_Q}."),
        Column("computed_at", TIMESTAMP, f"When these figures were computed {_UTC}."),
    ),
)  # fmt: skip

WHALE_PNL = Table(
    name="whale_pnl",
    row_limits=RowLimits(warn=10_000, error=100_000),
    description="Per whale: realized, unrealized and net PnL, capital deployed, ROI, counts.",
    key=("wallet",),
    columns=(
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False),
        Column("label", "VARCHAR", "The whale's label from the registry."),
        Column("realized_pnl", MONEY, f"Sum over its positions {_Q}.", nullable=False),
        Column("unrealized_pnl", MONEY, f"Sum over its marked open positions {_Q}.",
               nullable=False),
        Column("net_pnl", MONEY, f"realized + unrealized {_Q}.", nullable=False),
        Column("capital_deployed", MONEY, f"Sum of its buys {_Q}.", nullable=False),
        Column("roi", MONEY, "net_pnl / capital_deployed; NULL when nothing was bought."),
        Column("positions", "BIGINT", "Positions (market, side) ever traded.", nullable=False),
        Column("open_positions", "BIGINT", "Positions with shares held, unresolved.",
               nullable=False),
        Column("unmarked_positions", "BIGINT", "Open positions without any known price "
               "(their unrealized PnL is left out).", nullable=False),
        Column("decided_positions", "BIGINT", "Positions held into a resolution.",
               nullable=False),
        Column("won_positions", "BIGINT", "Decided positions on the winning side.",
               nullable=False),
        Column("oldest_mark_at", TIMESTAMP, f"Oldest price used to mark an open position "
               f"{_UTC}."),
        Column("computed_at", TIMESTAMP, f"When these figures were computed {_UTC}.",
               nullable=False),
    ),
)  # fmt: skip
