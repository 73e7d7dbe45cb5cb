"""The alert ledger: each trade alert once per channel, and what became of it."""

from opinion_pipeline.tables import TIMESTAMP, Column, RowLimits, Table

_UTC = "(UTC)"
STATUSES = ("queued", "pending", "delivered", "digested", "failed")

ALERT_LEDGER = Table(
    name="alert_ledger",
    row_limits=RowLimits(warn=1_000_000, error=5_000_000),
    description="Every trade alert (big trade, position change, whale consensus) per channel: "
    "queued, pending (being sent), delivered, digested (sent inside a digest) or failed.",
    key=("event_key", "channel"),
    columns=(
        Column("event_key", "VARCHAR", "The event: kind and the key of what it is about "
               "(trade:<trade_key>, position:<change_key>, consensus:<market>:<side>:<trade>).",
               nullable=False, derived=True),
        Column("channel", "VARCHAR", "The channel: URL scheme and a hash of its apprise URL "
               "(never the URL, a secret).", nullable=False, derived=True),
        Column("service", "VARCHAR", "The channel's service as apprise names it (Slack, "
               "Discord, Telegram, E-Mail, JSON, ...).", nullable=False, derived=True),
        Column("kind", "VARCHAR", "big_trade, position_change or consensus.", nullable=False,
               derived=True),
        Column("subject", "VARCHAR", "What the event is about: the wallet, or "
               "<market_id>:<outcome_side> for a consensus.", nullable=False, derived=True),
        Column("title", "VARCHAR", "The alert's title.", nullable=False, derived=True),
        Column("message", "VARCHAR", "The alert's text.", nullable=False, derived=True),
        Column("event_at", TIMESTAMP, f"When the trade or change happened {_UTC}.",
               nullable=False, derived=True),
        Column("status", "VARCHAR", "One of: " + ", ".join(STATUSES) + ".", nullable=False),
        Column("tries", "BIGINT", "Runs that tried to send it (each with retries and backoff).",
               nullable=False),
        Column("queued_at", TIMESTAMP, f"When a run first queued it {_UTC}.", nullable=False),
        Column("claimed_at", TIMESTAMP, f"When the last sender marked it pending {_UTC}."),
        Column("claimed_by", "VARCHAR", "Dagster run (or process) that marked it pending."),
        Column("delivered_at", TIMESTAMP, f"When a channel accepted it {_UTC}."),
        Column("digest_key", "VARCHAR", "The digest it went out in; NULL when sent alone."),
        Column("last_error", "VARCHAR", "Why the last try failed (no URL in it)."),
    ),
)  # fmt: skip
