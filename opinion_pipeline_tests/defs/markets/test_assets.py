"""A market sweep that updated nothing never looks like a fresh one (issue #11)."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from opinion_pipeline.defs.markets.assets import markets
from opinion_pipeline_tests.fakes import FakeOpinionAPI

pytestmark = pytest.mark.unit


class EmptyMarketListAPI(FakeOpinionAPI):
    """The fake API, answering the market list with no market at all."""

    def list_markets(self, status: str | None = None) -> list[dict[str, Any]]:
        return []


def _sweep(instance, resources, api) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [markets], instance=instance, resources={**resources, "opinion_api": api},
        raise_on_error=False,
    )  # fmt: skip


def _materializations(instance) -> int:
    return len(instance.fetch_materializations(dg.AssetKey("markets"), limit=10).records)


def test_an_empty_market_list_over_stored_markets_records_no_materialization(
    world, instance, resources
):
    assert _sweep(instance, resources, resources["opinion_api"]).success
    assert _materializations(instance) == 1
    fake = resources["opinion_api"]
    empty = EmptyMarketListAPI(base_url=fake.base_url, api_key=fake.api_key, world_id=fake.world_id)
    result = _sweep(instance, resources, empty)
    assert not result.success
    assert _materializations(instance) == 1, "the failed sweep recorded no materialization"
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert failure.description.startswith("the market list came back empty")
    assert "nothing was updated" in failure.description
