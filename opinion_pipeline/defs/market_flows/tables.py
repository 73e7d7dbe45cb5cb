"""Whale flow per market and window: where the tracked whales' money is moving."""

from opinion_pipeline.tables import MONEY, TIMESTAMP, Column, RowLimits, Table

_Q = "(USD: trades.usd_value)"
WINDOWS = {"1h": 1, "24h": 24, "7d": 7 * 24}  # window name -> hours

MARKET_FLOWS = Table(
    name="market_flows",
    description="Per market and window (1h, 24h, 7d): net whale USD bought minus sold per "
    "outcome, distinct whales per side, the top-skill whales' share of the volume.",
    key=("market_id", "flow_window"),
    # one row per market a whale traded in each window (1h, 24h, 7d)
    row_limits=RowLimits(warn=200_000, error=2_000_000),
    columns=(
        Column("market_id", "BIGINT", "Market traded (a categorical child).", nullable=False),
        Column("flow_window", "VARCHAR", "1h, 24h or 7d, ending at computed_at.",
               nullable=False),
        Column("market_title", "VARCHAR", "Market title as sent with the trades."),
        Column("yes_net_usd", MONEY, f"Yes side: bought (BUY, SPLIT) minus sold (SELL, MERGE) "
               f"{_Q}.", nullable=False),
        Column("no_net_usd", MONEY, f"No side: bought minus sold {_Q}.", nullable=False),
        Column("net_flow_usd", MONEY, "|yes_net_usd| + |no_net_usd|: how much whale money "
               "moved in this market, the ranking of the metadata table.", nullable=False),
        Column("yes_whales", "BIGINT", "Distinct whales that traded the Yes side.",
               nullable=False),
        Column("no_whales", "BIGINT", "Distinct whales that traded the No side.",
               nullable=False),
        Column("volume_usd", MONEY, f"All whale trades of the market {_Q}.", nullable=False),
        Column("top_skill_volume_usd", MONEY, f"Of which by the top-skill whales (skill_rank "
               f"<= the market_flows top-skill count, 10) {_Q}.", nullable=False),
        Column("top_skill_share", MONEY, "top_skill_volume_usd / volume_usd (0 when no volume).",
               nullable=False),
        Column("trades", "BIGINT", "Whale trades counted.", nullable=False),
        Column("computed_at", TIMESTAMP, "End of the window (UTC).", nullable=False),
    ),
)  # fmt: skip
