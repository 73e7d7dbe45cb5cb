"""The whale_trades asset checks of its own (the payload check is shared)."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue

from opinion_pipeline.reporting.checks import MAX_FAILURES_SHOWN
from opinion_pipeline.reporting.markdown import markdown_table

TRADE_KEYS_CHECK = "trade_keys_unique"
WALLETS_CHECK = "wallets_synced"


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


def failed_wallets_message(failed: dict[str, str], *, saved: int) -> str:
    """Why the sync failed, true in both cases: some whales saved, or none."""
    details = "\n".join(f"{wallet}: {error}" for wallet, error in sorted(failed.items()))
    if saved == 0:
        head = f"none of the {len(failed)} whale(s) due could be synced; nothing was stored"
    else:
        head = (
            f"{len(failed)} of {len(failed) + saved} whale(s) could not be synced; "
            f"the other {saved} were saved"
        )
    return f"{head}:\n{details}"


def wallets_check(asset_name: str, failed: dict[str, str], saved: int) -> AssetCheckResult:
    """ERROR naming every whale that could not be synced, with why."""
    metadata: dict[str, object] = {"whales_failed": len(failed), "whales_synced": saved}
    if failed:
        rows = sorted(failed.items())[:MAX_FAILURES_SHOWN]
        table = markdown_table(["wallet", "error"], rows)
        metadata["failed"] = MetadataValue.md(f"First {len(rows)}:\n\n{table}")
    return AssetCheckResult(
        check_name=WALLETS_CHECK,
        asset_key=asset_name,
        passed=not failed,
        severity=AssetCheckSeverity.ERROR,
        description=(
            failed_wallets_message(failed, saved=saved)
            if failed
            else f"All {saved} whale(s) due were synced."
        ),
        metadata=metadata,
    )
