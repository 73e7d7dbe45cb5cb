"""Store trades once each, and the big new ones in the activity feed, through the port."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from opinion_pipeline.defs.whale_trades.tables import ARCHIVED_TRADES, TRADES, WHALE_ACTIVITY
from opinion_pipeline.warehouse.port import NOW, KeyExists, Warehouse, WarehouseSession

TRADE_COLUMNS = TRADES.frame_columns
ACTIVITY_COLUMNS = [
    name for name in WHALE_ACTIVITY.column_names if name not in ("detected_at", "run_id")
]
MARKET_KNOWN = KeyExists("market_id", "markets", "market_id")


@dataclass(frozen=True)
class TradeInsert:
    new: int
    duplicates: int
    activity: int
    unknown_market: int


def wallet_watermarks(session: WarehouseSession) -> dict[str, int]:
    """Newest stored trade per wallet, as Unix seconds: where the next incremental read stops.

    Archived trades count: a whale whose trades are all archived is not a new whale.
    """
    return session.watermarks([TRADES, ARCHIVED_TRADES], by="wallet", column="created_at")


def at_least(values: pd.Series, threshold: float) -> pd.Series:
    """``values`` (decimal strings) >= ``threshold``, exactly: floats only pick the candidates."""
    approximate = pd.to_numeric(values, errors="coerce")
    near = approximate >= threshold * (1 - 1e-9)
    exact = Decimal(str(threshold))
    return near & values.where(near, "0").map(lambda value: Decimal(value) >= exact)


def insert_trades(
    session: WarehouseSession,
    rows: pd.DataFrame,
    *,
    run_id: str | None,
    alert_usd: float,
) -> TradeInsert:
    """Insert the trades not stored yet; those worth ``alert_usd`` or more join the feed.

    This function is what keeps ``trade_key`` unique (``trades`` has no PRIMARY KEY index, see
    tables.py): the session holds the warehouse lock, so the key check sees every committed
    trade and no other writer can add one before the insert. Archived trades count as stored.
    The ``trade_keys_unique`` asset check verifies it after every sync.
    """
    if rows.empty:
        return TradeInsert(new=0, duplicates=0, activity=0, unknown_market=0)
    stored = session.insert_new(
        TRADES,
        rows,
        known_in=[ARCHIVED_TRADES],
        always={"market_known": MARKET_KNOWN, "ingested_at": NOW, "run_id": run_id},
    )
    fresh = stored.rows
    activity = 0
    if not fresh.empty:
        big = fresh[at_least(fresh["usd_value"], alert_usd)]
        if not big.empty:
            activity = len(
                session.insert_new(
                    WHALE_ACTIVITY,
                    _activity_rows(session, big),
                    always={"detected_at": NOW, "run_id": run_id},
                ).rows
            )
    return TradeInsert(
        new=len(fresh),
        duplicates=stored.skipped,
        activity=activity,
        unknown_market=len(fresh) - stored.true_counts.get("market_known", 0),
    )


# A quarantined trade row is the stored trade T when it names T's wallet and agrees with T on
# all but at most one of these identity fields (a corruption spoils one field), one of them
# being the tx hash or the time. Read with TRY_CAST, so a spoiled field simply does not agree.
_AGREEMENT = " + ".join(
    f"coalesce(({term})::INT, 0)"
    for term in (
        "t.tx_hash = lower(q.raw_json ->> 'txHash')",
        "t.market_id = TRY_CAST(q.raw_json ->> 'marketId' AS BIGINT)",
        "epoch(t.created_at)::BIGINT = TRY_CAST(q.raw_json ->> 'createdAt' AS BIGINT)",
        "t.price = TRY_CAST(q.raw_json ->> 'price' AS DECIMAL(38, 18))",
        "t.shares = TRY_CAST(q.raw_json ->> 'shares' AS DECIMAL(38, 18))",
        "t.amount = TRY_CAST(q.raw_json ->> 'amount' AS DECIMAL(38, 18))",
    )
)
_IDENTITY_FIELDS = 6


def resolve_quarantined_trades(session: WarehouseSession, wallets: list[str]) -> int:
    """Mark unresolved quarantined trades of ``wallets`` that are now stored; returns how many.

    Runs in the write's session, after the insert and the quarantine, so a row rejected in
    one read and stored from another (either order) is not counted as a loss anywhere. An
    archived trade (only its key and time are kept) is matched by the row's ``createdAt``:
    page 1 of a whale whose trades are all archived is re-read every poll, and a spoiled row
    of it left unresolved would over-count the ledger for good.
    """
    if not wallets:
        return 0
    return _resolve_to_stored(session, wallets) + session.execute(
        """
        UPDATE quarantine SET resolved_at = now(), resolved_to = match.trade_key
        FROM (
            SELECT q.quarantine_key, min(a.trade_key) AS trade_key
            FROM quarantine q JOIN archived_trades a ON a.wallet = q.wallet
             AND epoch(a.created_at)::BIGINT = TRY_CAST(q.raw_json ->> 'createdAt' AS BIGINT)
            WHERE q.entity = 'trade' AND q.resolved_at IS NULL
              AND q.wallet IN (SELECT unnest($wallets))
            GROUP BY q.quarantine_key
        ) AS match
        WHERE quarantine.quarantine_key = match.quarantine_key
        """,
        {"wallets": wallets},
    )


def _resolve_to_stored(session: WarehouseSession, wallets: list[str]) -> int:
    return session.execute(
        f"""
        UPDATE quarantine SET resolved_at = now(), resolved_to = match.trade_key
        FROM (
            SELECT q.quarantine_key, min(t.trade_key) AS trade_key
            FROM quarantine q JOIN trades t ON t.wallet = q.wallet
            WHERE q.entity = 'trade' AND q.resolved_at IS NULL
              AND q.wallet IN (SELECT unnest($wallets))
              AND {_AGREEMENT} >= {_IDENTITY_FIELDS - 1}
              AND (t.tx_hash = lower(q.raw_json ->> 'txHash')
                   OR epoch(t.created_at)::BIGINT = TRY_CAST(q.raw_json ->> 'createdAt' AS BIGINT))
            GROUP BY q.quarantine_key
        ) AS match
        WHERE quarantine.quarantine_key = match.quarantine_key
        """,
        {"wallets": wallets},
    )


def _activity_rows(session: WarehouseSession, trades: pd.DataFrame) -> pd.DataFrame:
    """The feed's rows for ``trades``, with each whale's label from the registry."""
    wallets = sorted(set(trades["wallet"]))
    labels = dict(
        session.query(
            "SELECT address, label FROM whales WHERE address IN (SELECT unnest($wallets))",
            {"wallets": wallets},
        )
    )
    rows = trades.assign(label=trades["wallet"].map(lambda wallet: labels.get(wallet)))
    return rows[ACTIVITY_COLUMNS]


LATEST_ACTIVITY_SHOWN = 10


@dataclass(frozen=True)
class AfterSync:
    """What the whale_trades asset reports after a sync, read in one warehouse visit."""

    trades: int
    activity: int
    repeated_keys: list[tuple[str, int]]
    latest_activity: list[tuple]


def after_sync_summary(warehouse: Warehouse, run_id: str) -> AfterSync:
    with warehouse.reader() as session:
        latest = session.query(
            """
            SELECT created_at, label, wallet, side, outcome, round(usd_value, 2), market_title
            FROM whale_activity ORDER BY created_at DESC, trade_key LIMIT $limit
            """,
            {"limit": LATEST_ACTIVITY_SHOWN},
        )
        return AfterSync(
            trades=session.count(TRADES),
            activity=session.count(WHALE_ACTIVITY),
            repeated_keys=repeated_trade_keys(session, run_id),
            latest_activity=latest,
        )


def repeated_trade_keys(session: WarehouseSession, run_id: str) -> list[tuple[str, int]]:
    """Keys written by run ``run_id`` that ``trades`` holds more than once, with their counts.

    Reads only the rows sharing a key with that run's rows, so it costs one scan of the
    run_id and trade_key columns, not a full-table aggregate.
    """
    return session.query(
        """
        SELECT trade_key, count(*) FROM trades
        WHERE trade_key IN (SELECT trade_key FROM trades WHERE run_id = $run_id)
        GROUP BY trade_key HAVING count(*) > 1
        ORDER BY trade_key
        """,
        {"run_id": run_id},
    )
