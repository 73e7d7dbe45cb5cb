"""Per-whale skill: raw win rate (or why it is withheld), shrunk win rate, credible interval."""

from opinion_pipeline.tables import TIMESTAMP, Column, RowLimits, Table

WHALE_SKILL = Table(
    name="whale_skill",
    row_limits=RowLimits(warn=10_000, error=100_000),
    description="Per whale: win rate over decided positions, empirical-Bayes shrunk win rate "
    "with a 90 % credible interval, rank by its lower bound.",
    key=("wallet",),
    columns=(
        Column("wallet", "VARCHAR", "Whale wallet address, lowercase.", nullable=False),
        Column("label", "VARCHAR", "The whale's label from the registry."),
        Column("decided_positions", "BIGINT", "Positions held into a market's resolution.",
               nullable=False),
        Column("won_positions", "BIGINT", "Of those, on the winning side.", nullable=False),
        Column("win_rate", "DOUBLE", "won / decided; NULL (withheld) below the minimum sample "
               "(OPINION_SKILL_MIN_DECIDED, default 20)."),
        Column("withheld_reason", "VARCHAR", "Why win_rate is NULL; NULL when shown."),
        Column("shrunk_win_rate", "DOUBLE", "Posterior mean under the prior fitted across all "
               "whales: (alpha + won) / (alpha + beta + decided).", nullable=False),
        Column("credible_low", "DOUBLE", "5 % quantile of the posterior (90 % interval).",
               nullable=False),
        Column("credible_high", "DOUBLE", "95 % quantile of the posterior (90 % interval).",
               nullable=False),
        Column("skill_rank", "BIGINT", "1 = highest credible_low.", nullable=False),
        Column("prior_alpha", "DOUBLE", "The fitted prior's alpha (same on every row).",
               nullable=False),
        Column("prior_beta", "DOUBLE", "The fitted prior's beta (same on every row).",
               nullable=False),
        Column("computed_at", TIMESTAMP, "When these figures were computed (UTC).",
               nullable=False),
    ),
)  # fmt: skip
