"""The whale_trades asset checks of its own (the payload check is shared)."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue

from opinion_pipeline.defs.whale_trades.coverage import CoverageSummary
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


TRADES_COMPLETE_CHECK = "trades_complete"


def trades_complete_check(
    asset_name: str, coverage: CoverageSummary | None, *, max_repairs: int
) -> AssetCheckResult:
    """Every listed whale's trades accounted for against the venue's count (coverage.py).

    Passes when every listed wallet is proven complete; WARN while gaps are under repair or
    whales are not accounted for yet (history not read); ERROR when a gap outlived
    ``max_repairs`` repairs. The coverage figures are numeric metadata.
    """
    if coverage is None:
        return AssetCheckResult(
            check_name=TRADES_COMPLETE_CHECK,
            asset_key=asset_name,
            passed=False,
            severity=AssetCheckSeverity.WARN,
            description="No accounting was made this run.",
        )
    metadata: dict[str, object] = dict(coverage.numbers())
    if coverage.worst:
        rows = [
            (wallet, total, accounted, gap, since, repairs, outcome or "")
            for wallet, total, accounted, gap, since, repairs, outcome in coverage.worst
        ]
        table = markdown_table(
            ["wallet", "venue total", "accounted", "gap", "gap since", "repairs", "last repair"],
            rows,
        )
        metadata["gaps"] = MetadataValue.md(f"Oldest {len(rows)} gaps:\n\n{table}")
    past = coverage.past_repair_limit
    proven = coverage.with_gap == 0 and coverage.unaccounted == 0
    if proven:
        description = f"All {coverage.wallets} whale(s) proven complete against the venue's count."
    elif coverage.with_gap == 0:
        description = f"{coverage.complete} of {coverage.wallets} whale(s) proven complete"
    else:
        description = (
            f"{coverage.with_gap} of {coverage.wallets} whale(s) have a gap "
            f"({coverage.trades_missing} trade(s) missing, {coverage.trades_over_counted} "
            f"over-counted; oldest open {coverage.oldest_gap_minutes:.0f} min)"
        )
        description += (
            f"; {past} outlived {max_repairs} repair(s) and need a look"
            if past
            else "; under repair"
        )
    if coverage.unaccounted:
        description += (
            f"; {coverage.unaccounted} listed whale(s) not accounted for yet (history not read "
            "with the venue's count: new and waiting for budget, or failing)"
        )
    return AssetCheckResult(
        check_name=TRADES_COMPLETE_CHECK,
        asset_key=asset_name,
        passed=proven,
        severity=AssetCheckSeverity.ERROR if past else AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )
