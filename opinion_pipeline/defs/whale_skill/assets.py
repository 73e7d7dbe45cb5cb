"""The whale_skill asset: honest win rates, shrunk toward what all whales do."""

from datetime import datetime, timezone

import dagster as dg

from opinion_pipeline.defs.whale_skill.compute import recompute_skill
from opinion_pipeline.defs.whale_skill.tables import WHALE_SKILL as WHALE_SKILL_TABLE
from opinion_pipeline.reporting.catalog import column_schema
from opinion_pipeline.reporting.markdown import markdown_table
from opinion_pipeline.reporting.names import ANALYTICS, OWNERS
from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline.resources.warehouse import WarehouseResource

WHALE_SKILL = "whale_skill"


def _rate(value: float | None) -> str:
    return "withheld" if value is None else f"{value:.1%}"


@dg.asset(
    pool="compute_whale_pnl",  # its job's pool: one run at a time, however launched
    name=WHALE_SKILL,
    group_name=ANALYTICS,
    kinds={"duckdb"},
    owners=OWNERS,
    deps=["whale_pnl"],
    metadata=column_schema(WHALE_SKILL_TABLE),
    description=(
        "Per whale: win rate over decided positions (withheld below OPINION_SKILL_MIN_DECIDED, "
        "default 20), a win rate shrunk toward a beta prior fitted across all whales "
        "(empirical Bayes) with a 90 % credible interval, and the rank by its lower bound, so "
        "6 lucky wins of 6 do not outrank 140 of 220. Table: whale_skill."
    ),
)
def whale_skill(warehouse: WarehouseResource, pipeline: PipelineTunables) -> dg.MaterializeResult:
    as_of = datetime.now(timezone.utc)
    run = recompute_skill(warehouse, as_of, min_decided=pipeline.skill_min_decided)
    table = markdown_table(
        ["rank", "whale", "wallet", "won / decided", "win rate", "shrunk", "90 % interval"],
        [
            (
                rank,
                label,
                wallet,
                f"{won} / {decided}",
                _rate(raw),
                f"{shrunk:.1%}",
                f"{low:.1%} - {high:.1%}",
            )
            for rank, label, wallet, won, decided, raw, shrunk, low, high in run.top
        ],
    )
    return dg.MaterializeResult(
        metadata={
            "whales": run.whales,
            "withheld": run.withheld,
            "prior_alpha": run.prior[0],
            "prior_beta": run.prior[1],
            "min_decided": pipeline.skill_min_decided,
            "dagster/row_count": run.whales,
            "top_whales_by_skill": dg.MetadataValue.md(table),
        }
    )
