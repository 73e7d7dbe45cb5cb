"""Health of the pipeline's dependencies: the warehouse, its table sizes, quarantine, the API.

Each probe returns ``dg.AssetCheckResult``s with the numbers in their metadata. ERROR means
something is broken now (warehouse unreachable, table past its error size, key refused); WARN
means look soon (a table past its warning size, quarantine growing).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg

from opinion_pipeline.opinion_api import MissingAPIKeyError, OpinionAPI, OpinionAuthError
from opinion_pipeline.resources.warehouse import WarehouseError, WarehouseResource

WARN = dg.AssetCheckSeverity.WARN
ERROR = dg.AssetCheckSeverity.ERROR

WAREHOUSE_REACHABLE = "warehouse_reachable"
QUARANTINE_GROWTH = "quarantine_growth"
API_REACHABLE = "api_reachable"


def table_check_name(table: str) -> str:
    return f"table_size_{table}"


@dataclass
class WarehouseProbe:
    """What one short read-only visit to the warehouse found."""

    reachable: bool
    missing: bool = False
    error: str | None = None
    seconds: float = 0.0
    counts: dict[str, int | None] = field(default_factory=dict)
    quarantine_new: int | None = None  # unresolved rows first seen since the last check
    quarantine_unresolved: int | None = None


def probe_warehouse(
    warehouse: WarehouseResource, tables: list[str], quarantine_since: datetime
) -> WarehouseProbe:
    """Count every table and the quarantine rows first seen after ``quarantine_since``.

    A table the warehouse does not have (one older than the schema) is counted as None.
    """
    started = time.monotonic()
    if not Path(warehouse.path).exists():
        return WarehouseProbe(reachable=False, missing=True, error="no warehouse file yet")
    probe = WarehouseProbe(reachable=True)
    try:
        with warehouse.reader() as session:
            present = session.table_names()
            for table in tables:
                probe.counts[table] = session.count(table) if table in present else None
            if "quarantine" in present:
                # Rows read valid later (resolved) are not losses: only unresolved ones count.
                ((new, unresolved),) = session.query(
                    "SELECT count(*) FILTER (WHERE first_seen_at > $since), count(*) "
                    "FROM quarantine WHERE resolved_at IS NULL",
                    {"since": quarantine_since},
                )
                probe.quarantine_new = int(new)
                probe.quarantine_unresolved = int(unresolved)
    except (WarehouseError, OSError) as error:
        probe.reachable = False
        probe.error = f"{type(error).__name__}: {error}"
    probe.seconds = time.monotonic() - started
    return probe


def reachable_check(asset: str, probe: WarehouseProbe, path: str) -> dg.AssetCheckResult:
    metadata: dict[str, Any] = {"path": path, "seconds": round(probe.seconds, 3)}
    if probe.error:
        metadata["error"] = probe.error
    if probe.missing:
        description = (
            f"No warehouse at {path}: run a sync first, or check OPINION_WAREHOUSE_PATH / "
            "OPINION_DATA_DIR."
        )
    elif not probe.reachable:
        description = f"The warehouse could not be read: {probe.error}"
    else:
        description = "The warehouse opened and answered."
    return dg.AssetCheckResult(
        check_name=WAREHOUSE_REACHABLE,
        asset_key=asset,
        passed=probe.reachable,
        severity=ERROR,
        description=description,
        metadata=metadata,
    )


def table_checks(
    asset: str, probe: WarehouseProbe, thresholds: Mapping[str, Mapping[str, int]]
) -> list[dg.AssetCheckResult]:
    """One check per table: ERROR above its error size, WARN above its warning size."""
    results = []
    for table, levels in thresholds.items():
        count = probe.counts.get(table)
        metadata: dict[str, Any] = {"warn_above": levels["warn"], "error_above": levels["error"]}
        if count is None:
            reason = "the warehouse was not reachable" if not probe.reachable else "no such table"
            passed, severity, description = False, WARN, f"{table} not counted: {reason}."
        else:
            metadata["rows"] = count
            warn, error = levels["warn"], levels["error"]
            if count > error:
                passed, severity = False, ERROR
                description = f"{table} has {count:,} rows, above the error size {error:,}."
            elif count > warn:
                passed, severity = False, WARN
                description = f"{table} has {count:,} rows, above the warning size {warn:,}."
            else:
                passed, severity = True, WARN
                description = f"{table} has {count:,} rows (warn above {warn:,})."
        results.append(
            dg.AssetCheckResult(
                check_name=table_check_name(table),
                asset_key=asset,
                passed=passed,
                severity=severity,
                description=description,
                metadata=metadata,
            )
        )
    return results


def quarantine_check(
    asset: str, probe: WarehouseProbe, since: datetime, warn_above: int
) -> dg.AssetCheckResult:
    new = probe.quarantine_new
    metadata: dict[str, Any] = {"since": since.isoformat(), "warn_above": warn_above}
    if new is None:
        passed, description = False, "Quarantine growth not measured: warehouse not readable."
    else:
        metadata["new_rows"] = new
        metadata["total_rows"] = probe.counts.get("quarantine") or 0
        metadata["unresolved_rows"] = probe.quarantine_unresolved or 0
        passed = new <= warn_above
        description = (
            f"{new} unresolved row(s) quarantined since the last check (warn above {warn_above}); "
            "rows read valid later are resolved and not counted; see the quarantine table."
        )
    return dg.AssetCheckResult(
        check_name=QUARANTINE_GROWTH,
        asset_key=asset,
        passed=passed,
        severity=WARN,
        description=description,
        metadata=metadata,
    )


def _scrub(text: str, client: OpinionAPI) -> str:
    """Belt and braces: the client's errors never carry the key, but never show it anyway."""
    key = client.api_key
    key = (key.get_value() or "") if isinstance(key, dg.EnvVar) else key
    return text.replace(key, "***") if key and len(key) >= 4 else text


def api_check(asset: str, client: OpinionAPI) -> dg.AssetCheckResult:
    """One request (market list, page 1) with the configured key."""
    started = time.monotonic()
    metadata: dict[str, Any] = {"base_url": _scrub(str(client.base_url), client)}
    try:
        total, rows = next(iter(client.iter_pages("/market", {"marketType": 2})))
    except MissingAPIKeyError:
        passed, description = False, "OPINION_API_KEY is not set: no request was sent."
        metadata["error"] = "MissingAPIKeyError"
    except OpinionAuthError:
        passed = False
        description = "The API refused the key (HTTP 401): check OPINION_API_KEY."
        metadata["http_status"] = 401
    except Exception as error:  # any other failure means the API is not usable now
        passed = False
        description = f"The API could not be reached: {type(error).__name__}: {error}"
        status = getattr(error, "status", None)
        if isinstance(status, int):
            metadata["http_status"] = status
    else:
        passed = True
        description = "The API answered the market list with the configured key."
        metadata["markets_total"] = int(total) if total is not None else len(rows)
    metadata["seconds"] = round(time.monotonic() - started, 3)
    return dg.AssetCheckResult(
        check_name=API_REACHABLE,
        asset_key=asset,
        passed=passed,
        severity=ERROR,
        description=_scrub(description, client),
        metadata=metadata,
    )


def failed_errors(results: list[dg.AssetCheckResult]) -> list[dg.AssetCheckResult]:
    return [r for r in results if not r.passed and r.severity == ERROR]
