"""The run-failure alert and its delivery through apprise, against a real HTTP receiver on
loopback (apprise's json:// webhook and its Slack-compatible mmost:// scheme can target it).

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
    Channel,
    channel_of,
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
    url = f"{receiver.url}/services/{WEBHOOK_TOKEN}".replace("http://", "json://")
    monkeypatch.setenv("OPINION_ALERT_URLS", url)
    monkeypatch.delenv("OPINION_ALERT_WEBHOOK_URL", raising=False)
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
    # apprise's JSON body, plus the alert's fields as top-level keys
    assert set(body) == {
        "version",
        "title",
        "message",
        "attachments",
        "type",
        "kind",
        "job_name",
        "run_id",
        "asset_keys",
        "error",
        "run_url",
        "failed_at",
    }
    assert body["title"] == "Dagster run failed: alerts_fragile_job"
    assert body["kind"] == "run_failure"
    assert body["job_name"] == "alerts_fragile_job"
    assert body["run_id"] == run_id
    assert body["asset_keys"] == ["alerts_downstream", "alerts_fragile"]
    assert "step alerts_fragile: ValueError: boom: the feed is down" in body["error"]
    assert body["error"] in body["message"] or "boom: the feed is down" in body["message"]
    assert body["run_url"] == f"{UI_BASE}/runs/{run_id}"
    assert f"Open the run: {UI_BASE}/runs/{run_id}" in body["message"]
    assert abs(datetime.fromisoformat(body["failed_at"]).timestamp() - time.time()) < 60
    raw = request.raw.decode()
    for secret in (SECRET_KEY, "pg-secret-password-123", WEBHOOK_TOKEN, "xoxbTOKENVALUE"):
        assert secret not in raw


def test_slack_compatible_channel_gets_text(
    alert_env: str, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mmost:// posts Slack's incoming-webhook body ({"text": ...}) to a host of our choosing."""
    port = receiver.url.rsplit(":", 1)[1]
    monkeypatch.setenv("OPINION_ALERT_URLS", f"mmost://127.0.0.1:{port}/slacktokenvalue123")
    with dg.instance_for_test() as instance:
        context = _failure_context(instance, "bad <tag> & ```fence``` here")
        run_failure_alert_sensor(context)
        run_id = context.dagster_run.run_id
    [request] = receiver.wait_for(1)
    assert request.path == "/hooks/slacktokenvalue123"
    text = request.json()["text"]
    assert "Dagster run failed: alerts_fragile_job" in text
    assert run_id in text and f"{UI_BASE}/runs/{run_id}" in text
    assert "bad <tag> & ```fence``` here" in text or "bad &lt;tag&gt;" in text
    assert SECRET_KEY not in request.raw.decode()


def test_every_configured_channel_gets_the_alert(
    monkeypatch: pytest.MonkeyPatch, receiver: WebhookReceiver
) -> None:
    """Comma- or space-separated URLs, plus the old OPINION_ALERT_WEBHOOK_URL as a json:// one."""
    json_url = receiver.url.replace("http://", "json://")
    monkeypatch.setenv("OPINION_ALERT_URLS", f"{json_url}/one, {json_url}/two {json_url}/three")
    monkeypatch.setenv("OPINION_ALERT_WEBHOOK_URL", f"{receiver.url}/old")
    monkeypatch.delenv("OPINION_ALERT_WEBHOOK_FORMAT", raising=False)
    settings = AlertSettings.from_env()
    assert [channel.service for channel in settings.channels] == ["JSON"] * 4
    assert len({channel.channel_id for channel in settings.channels}) == 4
    result = send_alert(_alert(), settings, backoff_base_s=0.01)
    assert result.delivered and result.attempts == 4
    assert sorted(r.path for r in receiver.wait_for(4)) == ["/old", "/one", "/three", "/two"]


def test_bad_configuration_is_reported_without_the_url(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPINION_ALERT_URLS", "nosuchservice://host/tokenvalue999")
    monkeypatch.setenv("OPINION_ALERT_WEBHOOK_URL", "https://chat.example/hook/tokenvalue888")
    monkeypatch.setenv("OPINION_ALERT_WEBHOOK_FORMAT", "slack")  # not a hooks.slack.com URL
    with caplog.at_level(logging.ERROR):
        settings = AlertSettings.from_env(logging.getLogger("alerts-test"))
    assert settings.channels == ()
    assert len(settings.problems) == 2
    assert "scheme 'nosuchservice'" in caplog.text and "OPINION_ALERT_URLS" in caplog.text
    assert "tokenvalue999" not in caplog.text and "tokenvalue888" not in caplog.text


def test_old_slack_webhook_url_is_read_natively(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPINION_ALERT_URLS", raising=False)
    monkeypatch.setenv(
        "OPINION_ALERT_WEBHOOK_URL", f"https://hooks.slack.com/services/{WEBHOOK_TOKEN}"
    )
    monkeypatch.setenv("OPINION_ALERT_WEBHOOK_FORMAT", "slack")
    [channel] = AlertSettings.from_env().channels
    assert channel.service == "Slack" and WEBHOOK_TOKEN not in repr(channel)


def test_long_error_is_truncated(alert_env: str, receiver: WebhookReceiver) -> None:
    lines = "\n".join(f"line {i}: " + "x" * 60 for i in range(400))
    with dg.instance_for_test() as instance:
        run_failure_alert_sensor(_failure_context(instance, lines))
    [request] = receiver.wait_for(1)
    error = request.json()["error"]
    assert len(error) <= MAX_ERROR_CHARS
    assert "more characters)" in error
    assert "line 0: " in error


def test_unset_channels_only_log(
    monkeypatch: pytest.MonkeyPatch, receiver: WebhookReceiver, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("OPINION_ALERT_URLS", raising=False)
    monkeypatch.delenv("OPINION_ALERT_WEBHOOK_URL", raising=False)
    with dg.instance_for_test() as instance:
        context = _failure_context(instance)
        capsys.readouterr()
        run_failure_alert_sensor(context)  # does not raise
        result = alert_run_failure(context)
    assert result.status == "not_configured"
    assert receiver.requests == []
    logged = capsys.readouterr().err  # the sensor's log (the tick log in the UI)
    assert "ALERT (no OPINION_ALERT_URLS set, not sent)" in logged
    assert context.dagster_run.run_id in logged


def test_sensor_survives_unreachable_channel(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    url = closed_port_url().replace("http://", "json://") + "/" + WEBHOOK_TOKEN
    monkeypatch.setenv("OPINION_ALERT_URLS", url)
    with dg.instance_for_test() as instance:
        context = _failure_context(instance)
        capsys.readouterr()
        started = time.monotonic()
        run_failure_alert_sensor(context)  # does not raise
        elapsed = time.monotonic() - started
    logged = capsys.readouterr().err
    assert "alert delivery via JSON (json:" in logged and "failed after 4 attempt(s)" in logged
    assert "Connection error" in logged  # apprise's reason, kept
    assert WEBHOOK_TOKEN not in logged
    assert elapsed >= 0.5 + 1 + 2  # backed off between attempts


def _alert() -> alerting.Alert:
    return run_failure_alert(
        job_name="j", run_id="r1", asset_keys=["a"], error="e", ui_base_url=UI_BASE
    )


def _channel(receiver: WebhookReceiver, path: str = "/hook") -> Channel:
    channel = channel_of(receiver.url.replace("http://", "json://") + path)
    assert channel is not None
    return channel


def test_retries_5xx_then_delivers(receiver: WebhookReceiver) -> None:
    receiver.script.extend([Reply(503), Reply(502)])
    delays: list[float] = []
    result = deliver(_channel(receiver), _alert(), backoff_base_s=0.05, sleep=delays.append)
    assert result.delivered and result.attempts == 3
    assert len(receiver.requests) == 3
    assert 0.05 <= delays[0] <= 0.06 and 0.1 <= delays[1] <= 0.12  # exponential, small jitter


def test_429_is_retried(receiver: WebhookReceiver) -> None:
    """apprise does not pass Retry-After on; the policy's own backoff spaces the retry."""
    receiver.script.append(Reply(429, {"Retry-After": "0.3"}))
    delays: list[float] = []
    result = deliver(_channel(receiver), _alert(), backoff_base_s=0.01, sleep=delays.append)
    assert result.delivered and result.attempts == 2
    assert len(delays) == 1


def test_failure_reason_is_apprise_s_words_without_the_url(receiver: WebhookReceiver) -> None:
    """apprise reports only failed or not, so a 4xx is retried too (every attempt is spent),
    and the reason recorded is apprise's warning, which names the status."""
    receiver.script.extend([Reply(404)] * 4)
    result = deliver(_channel(receiver, "/x/" + WEBHOOK_TOKEN), _alert(), sleep=lambda _: None)
    assert result.status == "failed" and result.attempts == 4
    assert "404" in result.detail and WEBHOOK_TOKEN not in result.detail
    assert len(receiver.requests) == 4


def test_slow_receiver_times_out_and_gives_up(receiver: WebhookReceiver) -> None:
    receiver.script.extend([Reply(200, delay_s=1.0), Reply(200, delay_s=1.0)])
    started = time.monotonic()
    result = deliver(
        _channel(receiver), _alert(), attempts=2, read_timeout_s=0.2, backoff_base_s=0.01
    )
    assert result.status == "failed" and "Connection error" in result.detail
    assert len(receiver.wait_for(2, timeout_s=2)) == 2
    assert time.monotonic() - started < 1.5  # did not wait for the slow replies


def test_delivery_failure_is_logged_without_the_url(caplog: pytest.LogCaptureFixture) -> None:
    """Not even apprise's own debug lines (which print a JSON webhook's URL) carry it."""
    url = closed_port_url().replace("http://", "json://") + "/" + WEBHOOK_TOKEN
    log = logging.getLogger("alerts-test")
    with caplog.at_level(logging.DEBUG):
        settings = AlertSettings.from_urls([url])
        result = send_alert(_alert(), settings, log, attempts=2, backoff_base_s=0.01)
    assert not result.delivered
    assert "failed after 2 attempt(s)" in caplog.text
    assert "Dagster run failed: j" in caplog.text
    assert any(record.name == "apprise" for record in caplog.records)  # its lines were seen
    assert WEBHOOK_TOKEN not in caplog.text
    assert "T0SECRET" not in caplog.text


def test_links_follow_the_ui_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPINION_UI_BASE_URL", raising=False)
    settings = AlertSettings.from_env()
    assert settings.ui_base_url == "http://127.0.0.1:3000"
