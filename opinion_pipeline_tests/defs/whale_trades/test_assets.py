"""A whale sync that stored nothing never looks like one that did (issue #11)."""

from __future__ import annotations

import dagster as dg
import pytest

from opinion_pipeline.defs.whale_registry.assets import whale_registry
from opinion_pipeline.defs.whale_trades.assets import whale_trades
from opinion_pipeline_tests.fakes import FakeOpinionAPI, unreachable

pytestmark = pytest.mark.unit
ASSETS = ["whale_trades", "whale_activity"]


def _run(instance, resources, api):
    return dg.materialize(
        [whale_registry, whale_trades],
        instance=instance,
        resources={**resources, "opinion_api": api},
        raise_on_error=False,
    )


def _materializations(instance, asset: str) -> int:
    return len(
        instance.fetch_materializations(dg.AssetKey(asset), limit=100).records  # type: ignore[attr-defined]
    )


def _step_error(result) -> str:
    return result.get_step_failure_events()[0].step_failure_data.user_failure_data.description


def test_every_wallet_failing_records_no_materialization(world, instance, resources):
    failing = {w.address: unreachable(w.address) for w in world.wallets}
    result = _run(instance, resources, FakeOpinionAPI.over(world, fail_wallets=failing))
    assert not result.success
    assert all(_materializations(instance, asset) == 0 for asset in ASSETS)
    message = _step_error(result)
    assert message.startswith(f"none of the {len(world.wallets)} whale(s) due could be synced")
    assert "nothing was stored" in message and "saved" not in message
    assert all(address in message for address in failing)


def test_some_wallets_failing_fail_the_run_through_an_error_check(world, instance, resources):
    broken = world.wallets[1].address
    api = FakeOpinionAPI.over(world, fail_wallets={broken: unreachable(broken)})
    result = _run(instance, resources, api)
    assert not result.success
    assert all(_materializations(instance, asset) == 1 for asset in ASSETS)
    event = instance.get_latest_materialization_event(dg.AssetKey("whale_trades"))
    assert event.asset_materialization.metadata["whales_failed"].value == 1
    checks = {check.check_name: check for check in result.get_asset_check_evaluations()}
    check = checks["wallets_synced"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert broken in check.description and "HTTP 503" in check.description
    saved = len(world.wallets) - 1
    assert f"1 of {len(world.wallets)} whale(s) could not be synced" in _step_error(result)
    assert f"the other {saved} were saved" in _step_error(result)


def test_a_clean_sync_passes_every_check(instance, resources):
    result = _run(instance, resources, resources["opinion_api"])
    assert result.success
    checks = {check.check_name: check.passed for check in result.get_asset_check_evaluations()}
    assert checks == {
        "payload_valid": True,
        "trade_keys_unique": True,
        "wallets_synced": True,
        "trades_complete": True,
    }
