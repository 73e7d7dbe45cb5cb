"""Turn a sync report into Dagster metadata and the blocking payload check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import AssetCheckResult, AssetCheckSeverity, Failure, MetadataValue

from opinion_pipeline.assets.constants import PAYLOAD_CHECK, TRADE_KEYS_CHECK
from opinion_pipeline.assets.markdown import markdown_table
from opinion_pipeline.opinion_api import OpinionAPIError
from opinion_pipeline.resources.warehouse import WarehouseError
from opinion_pipeline.settings import SettingsError
from opinion_pipeline.sync.report import SyncReport
from opinion_pipeline.validation import PayloadUnusableError
from opinion_pipeline.warehouse.retention import RetentionRefused
from opinion_pipeline.whales import WhaleRegistryError

MAX_FAILURES_SHOWN = 50
USER_FACING_ERRORS = (
    PayloadUnusableError,
    WhaleRegistryError,
    OpinionAPIError,
    WarehouseError,
    SettingsError,
    RetentionRefused,
)


def sync_metadata(report: SyncReport, row_count: int) -> dict[str, object]:
    """Numeric metadata (plotted by the UI across materializations) plus the row count."""
    return {**report.numbers(), "dagster/row_count": row_count}


def payload_check(asset_name: str, report: SyncReport) -> AssetCheckResult:
    """Passes when nothing was quarantined; otherwise warns and shows the failures as a table."""
    failures = report.rejects[:MAX_FAILURES_SHOWN]
    table = markdown_table(
        ["wallet", "row", "reason", "raw row"],
        [
            (wallet or "", reject.position, reject.reason, reject.raw_json())
            for wallet, reject in failures
        ],
    )
    metadata: dict[str, object] = {
        "fetched": report.items_fetched,
        "quarantined": report.quarantined,
    }
    if failures:
        shown = f"first {len(failures)} of {len(report.rejects)}"
        metadata["failures"] = MetadataValue.md(f"Quarantined rows ({shown}):\n\n{table}")
    return AssetCheckResult(
        check_name=PAYLOAD_CHECK,
        asset_key=asset_name,
        passed=report.quarantined == 0,
        severity=AssetCheckSeverity.WARN,
        description="Rows that failed the pandera schema go to the quarantine table.",
        metadata=metadata,
    )


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


@contextmanager
def clear_failures() -> Iterator[None]:
    """Turn the errors a user must act on into a dg.Failure whose description is the message.

    Bad payloads, a bad registry file and bad configuration then show as one readable line at
    the top of the failed run, not under a stack trace.
    """
    try:
        yield
    except USER_FACING_ERRORS as error:
        raise Failure(description=f"{type(error).__name__}: {error}") from None
