"""A failure alert carries the real cause: the failed step's whole message, capped, no secret."""

from __future__ import annotations

import dagster as dg
import pytest

from opinion_pipeline.automation.alerts import MAX_ERROR_CHARS
from opinion_pipeline.automation.sensors import RUN_FAILURE_SENSOR, failure_summary, redact

pytestmark = pytest.mark.unit
SECRET_KEY = "sk-test-cause-5a4b3c2d1e0f"
WEBHOOK = "http://hooks.example.internal/services/T0CAUSE/B0CAUSE/tokenvalue"
WALLETS = [f"0x{n:040x}" for n in range(1, 4)]
CAUSE = "3 of 8 whale(s) could not be synced; the other 5 were saved:\n" + "\n".join(
    f"{wallet}: GET /openapi/trade/user/{wallet} failed after 4 attempts: HTTP 503"
    for wallet in WALLETS
)


def _context(instance: dg.DagsterInstance, description: str) -> dg.RunFailureSensorContext:
    @dg.asset(name="cause_sync")
    def cause_sync() -> None:
        raise dg.Failure(description=description)

    job = dg.Definitions(
        assets=[cause_sync], jobs=[dg.define_asset_job("cause_job", selection=[cause_sync])]
    ).resolve_job_def("cause_job")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    return dg.build_run_status_sensor_context(
        sensor_name=RUN_FAILURE_SENSOR,
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    ).for_run_failure()


def test_the_alert_names_every_wallet_and_its_cause():
    with dg.instance_for_test() as instance:
        summary = failure_summary(_context(instance, CAUSE))
    assert f"step cause_sync: {CAUSE}" in summary
    assert "dagster._core" not in summary, summary


def test_secrets_in_a_cause_are_redacted_and_the_length_capped(monkeypatch):
    monkeypatch.setenv("OPINION_API_KEY", SECRET_KEY)
    monkeypatch.setenv("OPINION_ALERT_WEBHOOK_URL", WEBHOOK)
    leaky = f"request with apikey {SECRET_KEY} to {WEBHOOK} failed\n" + "x" * 5000
    with dg.instance_for_test() as instance:
        summary = redact(failure_summary(_context(instance, leaky)))
    assert SECRET_KEY not in summary and "tokenvalue" not in summary
    assert "[redacted]" in summary
    from opinion_pipeline.automation.alerts import run_failure_alert

    alert = run_failure_alert(
        job_name="cause_job", run_id="r", asset_keys=[], error=summary, ui_base_url="http://x"
    )
    assert len(alert.data["error"]) <= MAX_ERROR_CHARS


def test_a_channel_url_in_a_cause_is_redacted_in_any_spelling(monkeypatch):
    """An apprise URL (json://...) whose path shows up in an error as https://... is cut too."""
    monkeypatch.setenv(
        "OPINION_ALERT_URLS", "jsons://hooks.example.internal/hook/T0URL/tokenvalue42"
    )
    leaky = "POST https://hooks.example.internal/hook/T0URL/tokenvalue42 failed"
    with dg.instance_for_test() as instance:
        summary = redact(failure_summary(_context(instance, leaky)))
    assert "tokenvalue42" not in summary and "[redacted]" in summary
