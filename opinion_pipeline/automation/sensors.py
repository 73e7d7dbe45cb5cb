"""Operational sensors: an alert when a run fails, and one when an asset goes stale.

Both are on by default (a sensor declared STOPPED would silently never alert) and both only
send alerts: they never request runs. Delivery (apprise, to every OPINION_ALERT_URLS channel) is
in ``automation.alerts`` and never raises, so a broken channel shows as an error line in the
sensor's log, not a failed tick.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from opinion_pipeline.automation.alerts import (
    AlertSettings,
    DeliveryResult,
    asset_stale_alert,
    configured_urls,
    redact_urls,
    run_failure_alert,
    send_alert,
)
from opinion_pipeline.automation.run_workers import build_orphaned_runs_sensor
from opinion_pipeline.config import Settings, load_settings
from opinion_pipeline.run_log.worker_death import GENERIC_FAILURE, without_oom_guess, worker_death

RUN_FAILURE_SENSOR = "run_failure_alert"
FRESHNESS_SENSOR = "freshness_alert"
NEVER = "never"  # the episode of an asset that has no materialization at all
FRESHNESS_TRIES = 3  # ticks a stale alert is tried before its episode counts as alerted


# ---------------------------------------------------------------------------- run failures


def _root_cause(error: Any) -> Any:
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return error


def _error_line(error: Any) -> str:
    """``Class: message`` of the innermost cause: what the user code raised, not its wrappers."""
    root = _root_cause(error)
    message = (getattr(root, "message", "") or "").strip()
    cls_name = getattr(root, "cls_name", None)
    prefix, sep, rest = message.partition(": ")
    if sep and cls_name and prefix.rsplit(".", 1)[-1] == cls_name:
        message = rest.strip()  # "dagster._core....Failure: text" -> "text"
    if cls_name == "Failure":  # a dg.Failure's message is the description we wrote
        return message
    if cls_name and not message.startswith(cls_name):
        message = f"{cls_name}: {message}"
    return message


def _step_cause(failure_data: Any) -> str:
    """A step's real cause: a ``dg.Failure``'s whole description (every wallet, every bad
    registry line), else the innermost error's ``Class: message``."""
    user_failure = getattr(failure_data, "user_failure_data", None)
    if user_failure is not None and (user_failure.description or "").strip():
        return user_failure.description.strip()
    error = getattr(failure_data, "error", None)
    return _error_line(error) if error is not None else ""


def redact(text: str, settings: Settings | None = None) -> str:
    """``text`` without the API key or any alert URL (or a part of one), should an error
    message carry them."""
    settings = settings or load_settings()
    secrets = [
        secret.get_secret_value().strip()
        for secret in (settings.api_key, settings.alert_urls, settings.alert_webhook_url)
        if secret is not None and len(secret.get_secret_value().strip()) >= 6
    ]
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return redact_urls(text, configured_urls(settings)[0])


def failure_summary(context: dg.RunFailureSensorContext) -> str:
    """The run's failure message plus, per failed step, the error that failed it."""
    message = (context.failure_event.message or "").strip()
    death = worker_death(context.instance, context.dagster_run.run_id)
    if death and (not message or message == GENERIC_FAILURE):
        message = death  # the cause, not "marked as failed from outside the execution context"
    parts = [message]
    try:
        for event in context.get_step_failure_events():
            cause = _step_cause(event.step_failure_data)
            if cause:
                parts.append(f"step {event.step_key}: {cause}")
    except Exception as exc:  # the summary is best effort; the alert itself must go out
        parts.append(f"(step errors unavailable: {type(exc).__name__})")
    run_error = getattr(context.failure_event.event_specific_data, "error", None)
    if run_error is not None:  # e.g. a resource that failed to start; often repeats a step error
        line = _error_line(run_error)
        if line and not any(line in part for part in parts):
            parts.append(line)
    if len(parts) == 1:  # failed from outside (monitoring, a dead worker): say what was seen
        parts.extend(_engine_messages(context.instance, context.dagster_run.run_id))
    return "\n".join(part for part in parts if part)


def _engine_messages(instance: dg.DagsterInstance, run_id: str, limit: int = 3) -> list[str]:
    """The last engine and canceling messages: why a run was failed from outside it."""
    try:
        records = instance.get_records_for_run(
            run_id,
            of_type={dg.DagsterEventType.ENGINE_EVENT, dg.DagsterEventType.RUN_CANCELING},
            limit=limit,
            ascending=False,
        ).records
    except Exception:
        return []
    return [without_oom_guess(record.event_log_entry.message) for record in reversed(records)]


def run_asset_keys(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[str]:
    """The run's selected assets, or those it planned to materialize; [] for op-only jobs."""
    if run.asset_selection:
        return sorted(key.to_user_string() for key in run.asset_selection)
    try:
        records = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
    except Exception:
        return []
    keys = {
        record.event_log_entry.dagster_event.asset_key.to_user_string()
        for record in records
        if record.event_log_entry.dagster_event
        and record.event_log_entry.dagster_event.asset_key is not None
    }
    return sorted(keys)


def _ended_at(instance: dg.DagsterInstance, run_id: str) -> float:
    record = instance.get_run_record_by_id(run_id)
    return record.end_time if record is not None and record.end_time else time.time()


def alert_run_failure(context: dg.RunFailureSensorContext) -> DeliveryResult:
    run = context.dagster_run
    settings = AlertSettings.from_env(context.log)
    alert = run_failure_alert(
        job_name=run.job_name,
        run_id=run.run_id,
        asset_keys=run_asset_keys(context.instance, run),
        error=redact(failure_summary(context)),
        ui_base_url=settings.ui_base_url,
        failed_at=_ended_at(context.instance, run.run_id),
    )
    return send_alert(alert, settings, context.log)


def build_run_failure_alert_sensor(
    name: str = RUN_FAILURE_SENSOR, minimum_interval_seconds: int = 30
) -> dg.SensorDefinition:
    """A factory so tests can declare the same sensor with a one-second interval."""

    @dg.run_failure_sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Sends every failed run of this code location (job, run id, assets, error, link) to "
            "the OPINION_ALERT_URLS channels; only logs the alert when none is set."
        ),
    )
    def _run_failure_alert(context: dg.RunFailureSensorContext) -> None:
        try:
            alert_run_failure(context)
        except Exception as exc:  # never fail the tick: the next failures must still alert
            context.log.error(f"run failure alert not sent: {type(exc).__name__}: {exc}")

    return _run_failure_alert


# ------------------------------------------------------------------------------- freshness


@dataclass(frozen=True)
class StaleAsset:
    key: str
    fail_window_s: float
    last_materialization: float | None
    overdue_s: float
    episode: str


def freshness_windows(repository_def: dg.RepositoryDefinition) -> dict[str, float]:
    """Fail window in seconds of every asset with a time-window freshness policy."""
    windows: dict[str, float] = {}
    for node in repository_def.asset_graph.asset_nodes:
        policy = node.freshness_policy_or_from_metadata
        fail_window = getattr(policy, "fail_window", None)
        if fail_window is not None:
            windows[node.key.to_user_string()] = fail_window.to_timedelta().total_seconds()
    return windows


def load_cursor(cursor: str | None) -> dict[str, dict[str, Any]]:
    """Per asset: ``first_seen`` (when first watched) and ``alerted`` (the episode alerted)."""
    try:
        state = json.loads(cursor) if cursor else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def check_freshness(
    instance: dg.DagsterInstance,
    windows: Mapping[str, float],
    state: dict[str, dict[str, Any]],
    now: float,
) -> list[StaleAsset]:
    """Stale assets not yet alerted for their current episode; updates ``state`` in place.

    An episode is identified by the last materialization it follows (or ``never``), so a
    stale asset alerts once, and again only after a new materialization went stale in turn.
    An asset never materialized counts from when this sensor first watched it.
    """
    for gone in set(state) - set(windows):
        del state[gone]
    stale: list[StaleAsset] = []
    for key, window in sorted(windows.items()):
        entry = state.setdefault(key, {"first_seen": now, "alerted": None})
        event = instance.get_latest_materialization_event(dg.AssetKey.from_user_string(key))
        last = event.timestamp if event is not None else None
        age = now - (last if last is not None else float(entry.get("first_seen", now)))
        if age < window:
            entry["alerted"] = None  # fresh (again): the next staleness is a new episode
            entry["failures"] = 0
            continue
        episode = f"{last:.6f}" if last is not None else NEVER
        if entry.get("alerted") != episode:
            stale.append(StaleAsset(key, window, last, age - window, episode))
    return stale


def alert_stale_assets(context: dg.SensorEvaluationContext, now: float) -> str:
    """One evaluation: check, alert, advance the cursor. Returns a line for the tick history."""
    if context.repository_def is None:
        return "no repository to read freshness policies from"
    windows = freshness_windows(context.repository_def)
    state = load_cursor(context.cursor)
    stale = check_freshness(context.instance, windows, state, now)
    settings = AlertSettings.from_env(context.log)
    outcomes = []
    for item in stale:
        alert = asset_stale_alert(
            asset_key=item.key,
            fail_window_s=item.fail_window_s,
            last_materialization=item.last_materialization,
            overdue_s=item.overdue_s,
            ui_base_url=settings.ui_base_url,
        )
        result = send_alert(alert, settings, context.log)
        entry = state[item.key]
        entry["failures"] = 0 if result.delivered else int(entry.get("failures", 0)) + 1
        # A failure is retried at the next ticks (apprise cannot say whether a failure will
        # heal), but a channel that refuses one episode's alert FRESHNESS_TRIES times running is
        # not retried every minute for hours: the episode counts as alerted (logged as such).
        if result.status == "failed" and entry["failures"] >= FRESHNESS_TRIES:
            context.log.error(
                f"stale alert of {item.key} failed at {FRESHNESS_TRIES} ticks; not retried "
                "for this episode"
            )
        if result.status != "failed" or entry["failures"] >= FRESHNESS_TRIES:
            entry["alerted"] = item.episode
            entry["failures"] = 0
        outcomes.append(f"{item.key} ({result.status})")
    context.update_cursor(json.dumps(state, sort_keys=True))
    overdue = sorted(key for key, entry in state.items() if entry.get("alerted"))
    return (
        f"watching {len(windows)} asset(s); newly stale: {', '.join(outcomes) or 'none'}; "
        f"still stale: {', '.join(overdue) or 'none'}"
    )


def build_freshness_alert_sensor(
    name: str = FRESHNESS_SENSOR, minimum_interval_seconds: int = 60
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Sends an alert once when an asset's last materialization is older than its "
            "freshness policy's fail window, and again only after it recovered and went stale."
        ),
    )
    def _freshness_alert(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        return dg.SkipReason(alert_stale_assets(context, time.time()))

    return _freshness_alert


run_failure_alert_sensor = build_run_failure_alert_sensor()
freshness_alert_sensor = build_freshness_alert_sensor()

SENSORS: list[dg.SensorDefinition] = [
    run_failure_alert_sensor,
    freshness_alert_sensor,
    build_orphaned_runs_sensor(),
]
