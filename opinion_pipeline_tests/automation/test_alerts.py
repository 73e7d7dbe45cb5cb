"""The run-failure alert and webhook delivery, against a real HTTP receiver on loopback.

The sensor is invoked the way Dagster invokes it (``build_run_status_sensor_context`` from a
real failed run in a real test instance); delivery is exercised against scripted 5xx, 429,
4xx, slow replies and a closed port.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime

import dagster as dg
import pytest

from opinion_pipeline.automation import alerts as alerting
from opinion_pipeline.automation.alerts import (
    MAX_ERROR_CHARS,
    AlertSettings,
    deliver,
    run_failure_alert,
    send_alert,
)
from opinion_pipeline.automation.sensors import (
    RUN_FAILURE_SENSOR,
    SENSORS,
    alert_run_failure,
    run_failure_alert_sensor,
)
from opinion_pipeline_tests.automation.alerts_fixtures import (
    Reply,
    WebhookReceiver,
    closed_port_url,
)

SECRET_KEY = "sk-test-9f8e7d6c5b4a39281706f5e4"
WEBHOOK_TOKEN = "T0SECRET/B0SECRET/xoxbTOKENVALUE"
UI_BASE = "http://dagster.example.internal:3000"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def alert_env(monkeypatch: pytest.MonkeyPatch, receiver: WebhookReceiver) -> str:
    """Webhook configured with a token in its path; secrets present in the environment."""
    url = f"{receiver.url}/services/{WEBHOOK_TOKEN}"
    monkeypatch.setenv("OPINION_ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("OPINION_UI_BASE_URL", UI_BASE + "/")
    monkeypatch.delenv("OPINION_ALERT_WEBHOOK_FORMAT", raising=False)
    monkeypatch.setenv("OPINION_API_KEY", SECRET_KEY)
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "pg-secret-password-123")
    return url


def _failing_defs(message: str) -> dg.Definitions:
    @dg.asset(name="alerts_fragile")
    def fragile() -> None:
        raise ValueError(message)

    @dg.asset(name="alerts_downstream", deps=[fragile])
    def downstream() -> None:
        return None

    job = dg.define_asset_job("alerts_fragile_job", selection=[fragile, downstream])
    return dg.Definitions(assets=[fragile, downstream], jobs=[job])


def _failure_context(
    instance: dg.DagsterInstance, message: str = "boom: the feed is down"
) -> dg.RunFailureSensorContext:
    """A real failed run of a real asset job, wrapped the way the sensor daemon wraps it."""
    job = _failing_defs(message).resolve_job_def("alerts_fragile_job")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    return dg.build_run_status_sensor_context(
        sensor_name=RUN_FAILURE_SENSOR,
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    ).for_run_failure()


def test_sensors_are_running_by_default() -> None:
    assert {sensor.name for sensor in SENSORS} >= {RUN_FAILURE_SENSOR}
    assert all(sensor.default_status == dg.DefaultSensorStatus.RUNNING for sensor in SENSORS)


def test_failed_run_posts_json_alert_without_secrets(
    alert_env: str, receiver: WebhookReceiver
) -> None:
    with dg.instance_for_test() as instance:
        context = _failure_context(instance)
        run_failure_alert_sensor(context)
        run_id = context.dagster_run.run_id
    [request] = receiver.wait_for(1)
    body = request.json()
    assert request.path == f"/services/{WEBHOOK_TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert set(body) == {
        "kind",
        "job_name",
        "run_id",
        "asset_keys",
        "error",
        "run_url",
        "failed_at",
    }
    assert body["kind"] == "run_failure"
    assert body["job_name"] == "alerts_fragile_job"
    assert body["run_id"] == run_id
    assert body["asset_keys"] == ["alerts_downstream", "alerts_fragile"]
    assert "step alerts_fragile: ValueError: boom: the feed is down" in body["error"]
    assert body["run_url"] == f"{UI_BASE}/runs/{run_id}"
    assert abs(datetime.fromisoformat(body["failed_at"]).timestamp() - time.time()) < 60
    raw = request.raw.decode()
    for secret in (SECRET_KEY, "pg-secret-password-123", WEBHOOK_TOKEN, "xoxbTOKENVALUE"):
        assert secret not in raw


def test_slack_format_has_text_and_blocks(
    alert_env: str, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPINION_ALERT_WEBHOOK_FORMAT", "slack")
    with dg.instance_for_test() as instance:
        context = _failure_context(instance, "bad <tag> & ```fence``` here")
        run_failure_alert_sensor(context)
        run_id = context.dagster_run.run_id
    [request] = receiver.wait_for(1)
    body = request.json()
    assert set(body) == {"text", "blocks"}
    assert "alerts_fragile_job" in body["text"]
    texts = [block["text"]["text"] for block in body["blocks"] if "text" in block]
    fields = [f["text"] for block in body["blocks"] for f in block.get("fields", [])]
    assert any(run_id in field for field in fields)
    assert f"<{UI_BASE}/runs/{run_id}|Open the run>" in texts
    [error_block] = [text for text in texts if text.startswith("```")]
    # Slack control characters are escaped and the fence cannot be closed from inside.
    assert "bad &lt;tag&gt; &amp; '''fence''' here" in error_block
    assert error_block.count("```") == 2
    assert SECRET_KEY not in request.raw.decode()


def test_long_error_is_truncated(alert_env: str, receiver: WebhookReceiver) -> None:
    lines = "\n".join(f"line {i}: " + "x" * 60 for i in range(400))
    with dg.instance_for_test() as instance:
        run_failure_alert_sensor(_failure_context(instance, lines))
    [request] = receiver.wait_for(1)
    error = request.json()["error"]
    assert len(error) <= MAX_ERROR_CHARS
    assert "more characters)" in error
    assert "line 0: " in error


def test_unset_webhook_only_logs(
    monkeypatch: pytest.MonkeyPatch, receiver: WebhookReceiver, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("OPINION_ALERT_WEBHOOK_URL", raising=False)
    with dg.instance_for_test() as instance:
        context = _failure_context(instance)
        capsys.readouterr()
        run_failure_alert_sensor(context)  # does not raise
        result = alert_run_failure(context)
    assert result.status == "not_configured"
    assert receiver.requests == []
    logged = capsys.readouterr().err  # the sensor's log (the tick log in the UI)
    assert "ALERT (no OPINION_ALERT_WEBHOOK_URL set, not sent)" in logged
    assert context.dagster_run.run_id in logged


def test_sensor_survives_unreachable_webhook(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("OPINION_ALERT_WEBHOOK_URL", closed_port_url() + "/" + WEBHOOK_TOKEN)
    with dg.instance_for_test() as instance:
        context = _failure_context(instance)
        capsys.readouterr()
        started = time.monotonic()
        run_failure_alert_sensor(context)  # does not raise
        elapsed = time.monotonic() - started
    logged = capsys.readouterr().err
    assert "failed after 4 attempt(s): ConnectionError" in logged
    assert "http://127.0.0.1:" in logged and WEBHOOK_TOKEN not in logged
    assert elapsed >= 0.5 + 1 + 2  # backed off between attempts


def _alert() -> alerting.Alert:
    return run_failure_alert(
        job_name="j", run_id="r1", asset_keys=["a"], error="e", ui_base_url=UI_BASE
    )


def test_retries_5xx_then_delivers(receiver: WebhookReceiver) -> None:
    receiver.script.extend([Reply(503), Reply(502)])
    delays: list[float] = []
    result = deliver(receiver.url, {"x": 1}, backoff_base_s=0.05, sleep=delays.append)
    assert result.delivered and result.attempts == 3 and result.http_status == 200
    assert len(receiver.requests) == 3
    assert 0.05 <= delays[0] <= 0.06 and 0.1 <= delays[1] <= 0.12  # exponential, small jitter


def test_429_honours_retry_after(receiver: WebhookReceiver) -> None:
    receiver.script.append(Reply(429, {"Retry-After": "0.3"}))
    delays: list[float] = []
    result = deliver(receiver.url, {"x": 1}, backoff_base_s=0.01, sleep=delays.append)
    assert result.delivered and result.attempts == 2
    assert delays == [0.3]


def test_client_error_is_not_retried(receiver: WebhookReceiver) -> None:
    receiver.script.append(Reply(404))
    result = deliver(receiver.url, {"x": 1}, sleep=lambda _: None)
    assert result.status == "failed" and not result.retryable
    assert result.attempts == 1 and result.http_status == 404
    assert len(receiver.requests) == 1


def test_slow_receiver_times_out_and_gives_up(receiver: WebhookReceiver) -> None:
    receiver.script.extend([Reply(200, delay_s=1.0), Reply(200, delay_s=1.0)])
    started = time.monotonic()
    result = deliver(receiver.url, {"x": 1}, attempts=2, read_timeout_s=0.2, backoff_base_s=0.01)
    assert result.status == "failed" and result.detail == "ReadTimeout"
    assert len(receiver.wait_for(2, timeout_s=2)) == 2
    assert time.monotonic() - started < 1.5  # did not wait for the slow replies


def test_delivery_failure_is_logged_without_the_url(caplog: pytest.LogCaptureFixture) -> None:
    url = closed_port_url() + "/" + WEBHOOK_TOKEN
    log = logging.getLogger("alerts-test")
    with caplog.at_level(logging.INFO, logger="alerts-test"):
        result = send_alert(
            _alert(), AlertSettings(webhook_url=url), log, attempts=2, backoff_base_s=0.01
        )
    assert not result.delivered
    assert "failed after 2 attempt(s): ConnectionError" in caplog.text
    assert "Dagster run failed: j" in caplog.text
    assert WEBHOOK_TOKEN not in caplog.text


def test_unknown_format_falls_back_to_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPINION_ALERT_WEBHOOK_FORMAT", "teams")
    monkeypatch.delenv("OPINION_UI_BASE_URL", raising=False)
    settings = AlertSettings.from_env()
    assert settings.format == "json"
    assert settings.ui_base_url == "http://127.0.0.1:3000"
