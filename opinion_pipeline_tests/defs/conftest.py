"""The fast tier's fixtures: an in-process world, the real client over it, a real DuckDB file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline.simulator.world import World
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.conftest import write_whales_file
from opinion_pipeline_tests.fakes import FakeOpinionAPI, small_world

WORLD_START = 1_790_000_000  # a fixed moment, so every run of the tier sees the same world


@pytest.fixture
def world() -> World:
    return small_world(start=WORLD_START)


@pytest.fixture
def fake_api(world: World) -> FakeOpinionAPI:
    return FakeOpinionAPI.over(world)


@pytest.fixture
def registry_file(tmp_path: Path, world: World) -> Path:
    wallets = [
        {"address": w.address, "label": w.label, "profile": w.profile} for w in world.wallets
    ]
    return write_whales_file(tmp_path / "whales.csv", wallets)


@pytest.fixture
def tunables(tmp_path: Path, registry_file: Path) -> PipelineTunables:
    return PipelineTunables(registry_file=str(registry_file), archive_dir=str(tmp_path / "archive"))


@pytest.fixture
def resources(
    fake_api: FakeOpinionAPI, warehouse: DuckDBWarehouse, tunables: PipelineTunables
) -> dict[str, object]:
    return {"opinion_api": fake_api, "warehouse": warehouse, "pipeline": tunables}


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance
