"""The pipeline_health asset: the warehouse, its table sizes, quarantine growth and the API.

It holds the warehouse only for one short read-only block, never during the API probe, and
records every number as metadata.
"""

from datetime import datetime, timedelta, timezone

import dagster as dg

from opinion_pipeline.defs.health import probes as health
from opinion_pipeline.defs.health.tables import HEALTH_REPORT
from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.names import MAINTENANCE, OWNERS
from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline.resources.warehouse import WarehouseResource
from opinion_pipeline.warehouse.catalog import health_row_limits

PIPELINE_HEALTH = "pipeline_health"

HEALTH_INTERVAL = timedelta(minutes=30)


def _health_specs() -> list[dg.AssetCheckSpec]:
    def spec(name: str, description: str) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(name, asset=PIPELINE_HEALTH, description=description)

    specs = [
        spec(health.WAREHOUSE_REACHABLE, "The DuckDB warehouse opens and answers (ERROR if not)."),
        spec(health.API_REACHABLE, "One market-list request succeeds with OPINION_API_KEY."),
        spec(
            health.QUARANTINE_GROWTH,
            "Rows quarantined since the last check, warned above OPINION_HEALTH_QUARANTINE_WARN.",
        ),
    ]
    specs += [
        spec(
            health.table_check_name(table),
            f"Row count of {table} against its row_limits or OPINION_HEALTH_THRESHOLDS "
            "(WARN / ERROR).",
        )
        for table in health_row_limits()
    ]
    return specs


class HealthConfig(dg.Config):
    lock_timeout_s: float = 120.0  # a write holding the warehouse longer than this is a problem
    fail_run_on_error: bool = True  # so run-failure alerts fire on ERROR checks


@dg.asset(
    name=PIPELINE_HEALTH,
    pool="health_check",  # its job's pool: one run at a time, however launched
    group_name=MAINTENANCE,
    kinds={"duckdb", "python"},
    owners=OWNERS,
    check_specs=_health_specs(),
    metadata=column_schema(HEALTH_REPORT),
    description=(
        "Every 30 minutes: is the warehouse reachable, is each table within its warning and error "
        "sizes (OPINION_HEALTH_THRESHOLDS), is quarantine growing, does the API accept the key. "
        "The run fails when an ERROR check fails, so run-failure alerts fire."
    ),
)
def pipeline_health(
    context: dg.AssetExecutionContext,
    config: HealthConfig,
    warehouse: WarehouseResource,
    api_probe: OpinionAPI,
    pipeline: PipelineTunables,
):
    thresholds = pipeline.health_thresholds()
    now = datetime.now(timezone.utc)
    previous = context.instance.get_latest_materialization_event(dg.AssetKey(PIPELINE_HEALTH))
    since = (
        datetime.fromtimestamp(previous.timestamp, tz=timezone.utc)
        if previous is not None
        else now - HEALTH_INTERVAL
    )
    probing = WarehouseResource(path=warehouse.path, lock_timeout_s=config.lock_timeout_s)
    probe = health.probe_warehouse(probing, list(thresholds), since)
    # The API probe runs after the warehouse block has closed: never hold the lock over HTTP.
    api = health.api_check(PIPELINE_HEALTH, api_probe)
    results = [
        health.reachable_check(PIPELINE_HEALTH, probe, warehouse.path),
        api,
        health.quarantine_check(PIPELINE_HEALTH, probe, since, pipeline.health_quarantine_warn),
        *health.table_checks(PIPELINE_HEALTH, probe, thresholds),
    ]
    failed = [r for r in results if not r.passed]
    errors = health.failed_errors(results)
    status = "ERROR" if errors else "WARN" if failed else "OK"
    metadata: dict[str, object] = {
        "status": status,
        "checks_failed": len(failed),
        "errors": len(errors),
        "quarantine_since": since.isoformat(),
        **{f"rows_{table}": count for table, count in probe.counts.items() if count is not None},
    }
    if probe.quarantine_new is not None:
        metadata["quarantine_new"] = probe.quarantine_new
    yield dg.MaterializeResult(metadata=metadata, check_results=results)
    if errors and config.fail_run_on_error:
        raise dg.Failure(
            description="health check ERROR: "
            + "; ".join(f"{r.check_name}: {r.description}" for r in errors)
        )
