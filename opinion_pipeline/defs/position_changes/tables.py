"""Position changes: what moved between two consecutive complete snapshots of a whale."""

from opinion_pipeline.tables import MONEY, TIMESTAMP, Column, RowLimits, Table

_UTC = "(UTC)"
CHANGES = ("opened", "increased", "reduced", "closed", "resolved_won", "resolved_lost", "claimed")

POSITION_CHANGES = Table(
    name="position_changes",
    row_limits=RowLimits(warn=2_000_000, error=10_000_000),
    description="Each change of a whale's position once: opened, increased, reduced, closed, "
    "resolved (won / lost), claimed.",
    key=("change_key",),
    columns=(
        Column("change_key", "VARCHAR", "Natural key: hash of (wallet, market_id, outcome_side, "
               "change, snapshot_at).", nullable=False, derived=True),
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False,
               derived=True),
        Column("market_id", "BIGINT", "Market of the position.", nullable=False, derived=True),
        Column("outcome_side", "SMALLINT", "1 Yes, 2 No.", nullable=False, derived=True),
        Column("change", "VARCHAR", "One of: " + ", ".join(CHANGES) + ".", nullable=False,
               derived=True),
        Column("snapshot_at", TIMESTAMP, f"The snapshot that showed the change {_UTC}.",
               nullable=False, derived=True),
        Column("previous_snapshot_at", TIMESTAMP, f"The snapshot it was compared with {_UTC}.",
               nullable=False, derived=True),
        Column("shares_before", MONEY, "Shares in the previous snapshot (0 if absent).",
               nullable=False, derived=True),
        Column("shares_after", MONEY, "Shares in this snapshot (0 if absent).", nullable=False,
               derived=True),
        Column("value_quote", MONEY, "Size of the change in quote token: shares moved x the "
               "token's price (1 / 0 for resolutions and claims).", nullable=False,
               derived=True),
        Column("trades_between", "BIGINT", "The whale's stored trades of this market and side "
               "between the two snapshots.", nullable=False, derived=True),
        Column("market_title", "VARCHAR", "Market title.", derived=True),
        Column("outcome", "VARCHAR", "Outcome label.", derived=True),
        Column("detected_at", TIMESTAMP, f"When the change was derived {_UTC}.", nullable=False),
        Column("run_id", "VARCHAR", "Dagster run that derived it."),
    ),
)  # fmt: skip

POSITION_CHANGE_PROGRESS = Table(
    name="position_change_progress",
    row_limits=RowLimits(warn=10_000, error=100_000),
    description="Per whale: the newest snapshot position_changes has compared.",
    key=("wallet",),
    columns=(
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False,
               derived=True),
        Column("compared_through", TIMESTAMP, f"Newest snapshot compared {_UTC}.",
               nullable=False, derived=True),
    ),
)  # fmt: skip
