"""The whale_trades asset checks of its own (the payload check is shared)."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue

from opinion_pipeline.reporting.checks import MAX_FAILURES_SHOWN
from opinion_pipeline.reporting.markdown import markdown_table

TRADE_KEYS_CHECK = "trade_keys_unique"


def trade_keys_check(asset_name: str, repeated: list[tuple[str, int]]) -> AssetCheckResult:
    """Fails (ERROR) when a trade key this run wrote is stored more than once."""
    shown = repeated[:MAX_FAILURES_SHOWN]
    metadata: dict[str, object] = {"repeated_keys": len(repeated)}
    if shown:
        table = markdown_table(["trade_key", "rows"], shown)
        metadata["repeated"] = MetadataValue.md(f"First {len(shown)}:\n\n{table}")
    return AssetCheckResult(
        check_name=TRADE_KEYS_CHECK,
        asset_key=asset_name,
        passed=not repeated,
        severity=AssetCheckSeverity.ERROR,
        description="Every trade this run wrote is stored exactly once (trade_key).",
        metadata=metadata,
    )
