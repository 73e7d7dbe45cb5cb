"""The whale_candidates asset: discovery from UNOFFICIAL sources plus the admission gate."""

from decimal import Decimal

import dagster as dg

from opinion_pipeline.defs.whale_candidates.gate import AdmissionRules, parse_boards
from opinion_pipeline.defs.whale_candidates.sync import DiscoveryOptions, DiscoveryReport, discover
from opinion_pipeline.defs.whale_candidates.tables import WHALE_CANDIDATES as CANDIDATES_TABLE
from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.checks import clear_failures, payload_check, sync_metadata
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.reporting.names import INGEST, OWNERS, PAYLOAD_CHECK
from opinion_pipeline.resources.discovery import DiscoveryTunables
from opinion_pipeline.resources.warehouse import WarehouseResource

WHALE_CANDIDATES = "whale_candidates"
SOURCES_CHECK = "sources_answered"
SHOWN = 25
UNOFFICIAL_NOTE = (
    "UNOFFICIAL: the leaderboard and market-holders routes are the web app's, not part of the "
    "documented Opinion API; they may change or vanish. OPINION_DISCOVERY=off turns discovery off."
)


def options_from(discovery: DiscoveryTunables) -> DiscoveryOptions:
    rules = AdmissionRules(
        boards=parse_boards(discovery.admit_boards),
        top_n=discovery.admit_top_n,
        min_ranking_value=Decimal(str(discovery.admit_min_ranking_value)),
        min_holding_usd=Decimal(str(discovery.admit_min_holding_usd)),
        max_tracked=discovery.max_tracked_whales,
        drop_days=discovery.drop_days,
    )
    return DiscoveryOptions(
        leaderboard=discovery.enabled and discovery.leaderboard,
        holders=discovery.enabled and discovery.holders,
        leaderboard_refresh_minutes=discovery.leaderboard_refresh_minutes,
        holders_refresh_minutes=discovery.holders_refresh_minutes,
        holder_requests=discovery.holder_requests,
        rules=rules,
    )


def _tables(report: DiscoveryReport) -> dict[str, dg.MetadataValue]:
    decided = report.decided
    columns = ["address", "admitted", "best_rank", "best_board", "holding_usd", "rule"]
    shown: dict[str, dg.MetadataValue] = {}
    if len(decided):
        ordered = decided.sort_values(["priority", "address"], na_position="last").head(SHOWN)
        rows = [tuple(row) for row in ordered[columns].itertuples(index=False)]
        shown["candidates"] = dg.MetadataValue.md(markdown_table(columns, rows))
        silent = decided[decided["no_trades_seen"]]
        if len(silent):
            rows = [tuple(row) for row in silent[["address", "sources", "rule"]].itertuples(False)]
            shown["no_trades_seen_addresses"] = dg.MetadataValue.md(
                "Tracked, polled, no trade returned although a source reports activity (see the "
                "README, 'Finding whales'):\n\n"
                + markdown_table(["address", "sources", "rule"], rows)
            )
    return shown


@dg.asset(
    pool="discover_whales",  # its job's pool: one run at a time, however launched
    name=WHALE_CANDIDATES,
    group_name=INGEST,
    kinds={"python", "duckdb"},
    owners=OWNERS,
    metadata=column_schema(CANDIDATES_TABLE),
    description=(
        "Whale discovery: addresses seen on the UNOFFICIAL leaderboard (volume, profit, points x "
        "0/1/7/30 days, top 100 each), among the UNOFFICIAL top holders of the most traded active "
        "markets (within a request budget), and in the registry file; one row per address with "
        "sources, boards, best rank, ranking values as sent, holdings, first/last seen and the "
        "admission gate's decision and rule. Table: whale_candidates. " + UNOFFICIAL_NOTE
    ),
    check_specs=[
        dg.AssetCheckSpec(
            PAYLOAD_CHECK,
            asset=WHALE_CANDIDATES,
            blocking=True,
            description="Every source row passed its pandera schema (failures are quarantined).",
        ),
        dg.AssetCheckSpec(
            SOURCES_CHECK,
            asset=WHALE_CANDIDATES,
            blocking=True,
            description="Every due UNOFFICIAL source answered (ERROR naming the one that did not).",
        ),
    ],
)
def whale_candidates(
    context: dg.AssetExecutionContext,
    opinion_api: OpinionAPI,
    warehouse: WarehouseResource,
    discovery: DiscoveryTunables,
):
    with clear_failures():
        options = options_from(discovery)
        report = discover(opinion_api, warehouse, options, run_id=context.run_id)
    failed = report.sources_failed
    yield payload_check(WHALE_CANDIDATES, report)
    yield dg.AssetCheckResult(
        check_name=SOURCES_CHECK,
        asset_key=WHALE_CANDIDATES,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={name: reason for name, reason in failed.items()},
    )
    yield dg.MaterializeResult(
        asset_key=WHALE_CANDIDATES,
        metadata={
            **sync_metadata(report),
            "sources_run": ", ".join(report.sources_run) or "none",
            "sources_skipped": "; ".join(f"{k}: {v}" for k, v in report.sources_skipped.items())
            or "none",
            "rules": options.rules.describe(),
            "unknown_fields": ", ".join(report.unknown_fields) or "none",
            "unofficial": UNOFFICIAL_NOTE,
            **_tables(report),
        },
    )
    if failed:
        names = ", ".join(sorted(failed))
        raise dg.Failure(
            description=f"discovery source(s) failed: {names}. "
            + " | ".join(failed.values())
            + " The registry is untouched: tracked whales stay tracked."
        )
