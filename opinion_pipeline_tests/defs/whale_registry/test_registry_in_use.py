"""The registry a user edits is the one in use: one path per mode, named in the metadata."""

from __future__ import annotations

import dagster as dg
import pytest

from opinion_pipeline.config import load_settings
from opinion_pipeline.defs.whale_registry.assets import whale_registry
from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse

WHALE_A = "0x1234567890abcdef1234567890abcdef12345678"
WHALE_B = "0xabcdefabcdefabcdefabcdefabcdefabcdefabcd"


def _clean_environment(monkeypatch, tmp_path) -> None:
    for name in ("OPINION_WHALES_FILE", "OPINION_DATA_DIR", "OPINION_WAREHOUSE_PATH",
                 "OPINION_MODE", "OPINION_API_KEY", "DAGSTER_HOME"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.unit
def test_one_registry_per_mode(tmp_path, monkeypatch):
    _clean_environment(monkeypatch, tmp_path)
    assert load_settings().registry_file == tmp_path / "data" / "simulator" / "whales.csv"
    monkeypatch.setenv("OPINION_API_KEY", "sk-real")
    assert load_settings().registry_file == tmp_path / "whales.csv"
    monkeypatch.setenv("OPINION_MODE", "simulator")  # what scripts/start sets for the simulator
    assert load_settings().registry_file == tmp_path / "data" / "simulator" / "whales.csv"


def _materialize() -> dg.MaterializeResult:
    settings = load_settings()
    result = dg.materialize(
        [whale_registry],
        resources={
            "pipeline": PipelineTunables.from_settings(settings),
            "warehouse": DuckDBWarehouse(path=str(settings.warehouse_file)),
        },
    )
    assert result.success
    return result.asset_materializations_for_node("whale_registry")[0]


@pytest.mark.unit
def test_an_edit_to_the_file_in_use_takes_effect_and_the_metadata_names_it(tmp_path, monkeypatch):
    _clean_environment(monkeypatch, tmp_path)
    registry = tmp_path / "data" / "simulator" / "whales.csv"
    registry.parent.mkdir(parents=True)
    registry.write_text(f"address,label,tags\n{WHALE_A},a,\n", encoding="utf-8")
    first = _materialize()
    assert first.metadata["registry_file"].value == str(registry)
    assert first.metadata["registry_mode"].value == "simulator"
    assert first.metadata["whales_listed"].value == 1
    with registry.open("a", encoding="utf-8") as handle:
        handle.write(f"{WHALE_B},b,\n")
    second = _materialize()
    assert second.metadata["whales_listed"].value == 2
    assert second.metadata["whales_added"].value == 1
