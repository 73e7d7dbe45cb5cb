"""Names shared by assets, checks, jobs and schedules."""

INGEST = "ingest"
ANALYTICS = "analytics"
MAINTENANCE = "maintenance"

OWNERS = ["team:data-platform"]

MARKETS = "markets"
WHALE_REGISTRY = "whale_registry"
WHALE_TRADES = "whale_trades"
WHALE_ACTIVITY = "whale_activity"
WHALE_STATS = "whale_stats"
TRADES_ARCHIVE = "trades_archive"

PAYLOAD_CHECK = "payload_valid"
TRADE_KEYS_CHECK = "trade_keys_unique"
