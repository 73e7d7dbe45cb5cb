"""The trade_alerts asset: big trades, position changes and whale consensus, sent to chat."""

from datetime import timedelta

import dagster as dg

from opinion_pipeline.automation.alerts import AlertSettings
from opinion_pipeline.config import load_settings
from opinion_pipeline.defs.trade_alerts.dispatch import AlertRun, Delivery, deliver_trade_alerts
from opinion_pipeline.defs.trade_alerts.events import Thresholds
from opinion_pipeline.defs.trade_alerts.tables import ALERT_LEDGER
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.reporting.names import ANALYTICS, OWNERS
from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline.resources.warehouse import WarehouseResource

TRADE_ALERTS = "trade_alerts"
DELIVERED_CHECK = "alerts_delivered"


def thresholds(pipeline: PipelineTunables) -> Thresholds:
    return Thresholds(
        trade_usd=pipeline.alert_trade_usd,
        position_usd=pipeline.alert_position_usd,
        consensus_whales=pipeline.alert_consensus_whales,
        consensus_top=pipeline.alert_consensus_top,
        max_age=timedelta(minutes=pipeline.alert_max_age_minutes),
    )


def _check(run: AlertRun, problems: tuple[str, ...]) -> dg.AssetCheckResult:
    """WARN, never ERROR: a chat service being down must not fail the pipeline's runs."""
    trouble = [*problems, *run.errors]
    return dg.AssetCheckResult(
        check_name=DELIVERED_CHECK,
        asset_key=TRADE_ALERTS,
        passed=not trouble,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{run.failed} alert(s) not delivered; the next runs retry them. "
            + " ".join(trouble[:3])
            if trouble
            else "Every alert due was delivered."
        ),
        metadata={"failed": run.failed, "configuration_problems": len(problems)},
    )


@dg.asset(
    pool="deliver_trade_alerts",  # its job's pool: one run at a time, however launched
    name=TRADE_ALERTS,
    group_name=ANALYTICS,
    kinds={"python", "duckdb"},
    owners=OWNERS,
    deps=["whale_activity", "position_changes", "whale_skill"],
    metadata=column_schema(ALERT_LEDGER),
    check_specs=[dg.AssetCheckSpec(DELIVERED_CHECK, asset=TRADE_ALERTS)],
    description=(
        "Big whale trades (OPINION_ALERT_TRADE_USD, default OPINION_WHALE_ALERT_USD), position "
        "changes above OPINION_ALERT_POSITION_USD and whale consensus (OPINION_ALERT_CONSENSUS_"
        "WHALES top-skill whales buying one side within an hour) sent through apprise to every "
        "OPINION_ALERT_URLS channel, each once per channel (the alert ledger); more than "
        "OPINION_ALERT_RATE_PER_MINUTE a minute go as one digest. Failures are retried and "
        "recorded, never fail the run (the alerts_delivered check warns). Table: alert_ledger."
    ),
)
def trade_alerts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineTunables
) -> dg.MaterializeResult:
    # The thresholds are tunables (shown in the UI); the channel URLs are secrets, so they are
    # read from the environment here and never become resource configuration.
    alerts = AlertSettings.from_settings(load_settings(), context.log)
    limits = thresholds(pipeline)
    run = deliver_trade_alerts(
        warehouse,
        alerts,
        limits,
        owner=context.run_id,
        how=Delivery(rate_per_minute=pipeline.alert_rate_per_minute),
    )
    if not alerts.channels:
        context.log.warning(
            f"no alert channel configured (OPINION_ALERT_URLS): {run.events} event(s) not sent"
        )
    with warehouse.reader() as session:
        total = session.count(ALERT_LEDGER)
    channels = (
        markdown_table(["service", "channel"], [(c.service, c.channel_id) for c in alerts.channels])
        if alerts.channels
        else f"No channel configured (set OPINION_ALERT_URLS): {run.events} event(s) not sent."
    )
    return dg.MaterializeResult(
        metadata={
            "events": run.events,
            "queued": run.queued,
            "delivered": run.counts["delivered"],
            "digested": run.counts["digested"],
            "digests": run.counts["digests"],
            "failed": run.failed,
            "channels": dg.MetadataValue.md(channels),
            "trade_usd": limits.trade_usd,
            "position_usd": limits.position_usd,
            "consensus_whales": limits.consensus_whales,
            "rate_per_minute": pipeline.alert_rate_per_minute,
            "dagster/row_count": total,
        },
        check_results=[_check(run, alerts.problems)],
    )
