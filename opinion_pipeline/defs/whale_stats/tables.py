"""The whale_stats table: per-whale figures, recomputed in full from the trades table."""

from opinion_pipeline.tables import MONEY, TIMESTAMP, Column, RowLimits, Table

_UTC = "(UTC)"

WHALE_STATS = Table(
    name="whale_stats",
    row_limits=RowLimits(warn=10_000, error=100_000),
    description="Per whale: USD volume over several windows, trade counts, realized profit.",
    key=("wallet",),
    columns=(
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False),
        Column("label", "VARCHAR", "The whale's label from the registry."),
        Column("total_volume_usd", MONEY, "USD volume of every stored trade.", nullable=False),
        Column("volume_24h_usd", MONEY, "USD volume over the 24 h before computed_at.",
               nullable=False),
        Column("volume_7d_usd", MONEY, "USD volume over the 7 days before computed_at.",
               nullable=False),
        Column("volume_30d_usd", MONEY, "USD volume over the 30 days before computed_at.",
               nullable=False),
        Column("trade_count", "BIGINT", "Number of stored trades.", nullable=False),
        Column("buy_count", "BIGINT", "Number of BUY trades.", nullable=False),
        Column("sell_count", "BIGINT", "Number of SELL trades.", nullable=False),
        Column("distinct_markets", "BIGINT", "Number of distinct markets traded.", nullable=False),
        Column("realized_profit_usd", MONEY, "Sum of profit on sells and merges.", nullable=False),
        Column("first_trade_at", TIMESTAMP, f"First stored trade {_UTC}."),
        Column("last_trade_at", TIMESTAMP, f"Last stored trade {_UTC}."),
        Column("largest_trade_usd", MONEY, "USD value of the largest trade."),
        Column("computed_at", TIMESTAMP, f"When these statistics were computed {_UTC}.",
               nullable=False),
    ),
)  # fmt: skip
