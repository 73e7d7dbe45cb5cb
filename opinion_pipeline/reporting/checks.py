"""Turn a sync report into Dagster metadata and the blocking payload check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import AssetCheckResult, AssetCheckSeverity, Failure, MetadataValue

from opinion_pipeline.errors import UserFacingError
from opinion_pipeline.opinion_api import OpinionAPIError
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.reporting.names import PAYLOAD_CHECK
from opinion_pipeline.sync.report import SyncReport

MAX_FAILURES_SHOWN = 50
USER_FACING_ERRORS = (UserFacingError, OpinionAPIError)


def sync_metadata(report: SyncReport) -> dict[str, object]:
    """Numeric metadata (plotted by the UI across materializations) plus the row count."""
    return {**report.numbers(), "dagster/row_count": report.table_rows or 0}


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
