"""Alerts: what an alert says, and its delivery to every configured channel through apprise.

apprise (https://github.com/caronc/apprise) is the one delivery path: Slack, Discord,
Telegram, email, generic JSON webhooks and some hundred other services, each named by a URL
(``slack://…``, ``discord://…``, ``tgram://…``, ``mailtos://…``, ``json://host/path``). This
module adds only what apprise does not do: the pipeline's retry policy (``retrying.py``) around
each send, and keeping the URLs secret.

Kept free of Dagster so it can be tested with a plain HTTP receiver. Two rules shape it:

* Alerting must never break the pipeline: ``send_alert`` and ``deliver`` never raise; they log
  and return a ``DeliveryResult``.
* Alerts must never leak secrets: a message is built only from the fields of an ``Alert``, and a
  channel URL (a Slack webhook URL *is* a secret) is never logged, stored or shown: logs and the
  alert ledger name a channel by its service and ``Channel.channel_id`` (a hash); see
  ``automation.channels`` for the configuration and the redaction of apprise's log lines.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote

import apprise

from opinion_pipeline.automation.channels import (  # re-exported: the alerts API in one place
    APPRISE_LOGGER,
    DEFAULT_UI_BASE_URL,
    URLS_ENV,
    WEBHOOK_FORMAT_ENV,
    WEBHOOK_URL_ENV,
    AlertSettings,
    Channel,
    channel_of,
    configured_urls,
    redact,
    redact_urls,
)
from opinion_pipeline.retrying import RetryLater, retry_policy

__all__ = [
    "DEFAULT_UI_BASE_URL",
    "URLS_ENV",
    "WEBHOOK_FORMAT_ENV",
    "WEBHOOK_URL_ENV",
    "Alert",
    "AlertSettings",
    "Channel",
    "DeliveryResult",
    "asset_stale_alert",
    "channel_of",
    "configured_urls",
    "deliver",
    "redact",
    "redact_urls",
    "run_failure_alert",
    "send_alert",
]


MAX_ERROR_CHARS = 1500  # enough for a message and the top of a stack
MAX_ASSET_KEYS_SHOWN = 20
# The keys apprise's JSON body already has: an alert's fields must not overwrite them.
_JSON_RESERVED = {"version", "title", "message", "attachments", "type"}

DeliveryStatus = Literal["delivered", "not_configured", "failed"]

_default_logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ alerts


@dataclass(frozen=True)
class Alert:
    """One alert. ``data`` are its fields as JSON values: a ``json://`` webhook gets them as
    top-level keys beside apprise's own (title, message, type)."""

    kind: str
    title: str
    fields: Mapping[str, str]
    link_url: str
    link_label: str
    error: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    message: str | None = None  # text already rendered (a trade alert): shown before the link

    def body(self) -> str:
        """The message under the title: one line per field, the error, then the link."""
        lines = [self.message] if self.message else []
        lines += [f"{name}: {value}" for name, value in self.fields.items()]
        if self.error:
            lines.append(f"error: {self.error}")
        lines.append(f"{self.link_label}: {self.link_url}")
        return "\n".join(lines)

    def text(self) -> str:
        """A one-line rendering for log lines."""
        return " | ".join([self.title, *self.body().split("\n")])


@dataclass(frozen=True)
class DeliveryResult:
    status: DeliveryStatus
    attempts: int = 0
    detail: str = ""
    failed_channels: tuple[str, ...] = ()

    @property
    def delivered(self) -> bool:
        return self.status == "delivered"


def truncate(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """Cut long text at a line break near the limit when there is one, marking the cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    marker = f"\n… ({len(text) - limit} more characters)"
    head = text[: limit - len(marker)]
    newline = head.rfind("\n")
    if newline > limit // 2:
        head = head[:newline]
    return head.rstrip() + marker


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


def run_failure_alert(
    *,
    job_name: str,
    run_id: str,
    asset_keys: Sequence[str],
    error: str,
    ui_base_url: str,
    failed_at: float | None = None,
) -> Alert:
    run_url = f"{ui_base_url.rstrip('/')}/runs/{quote(run_id, safe='')}"
    summary = truncate(error or "run failed (no message)")
    shown = list(asset_keys)[:MAX_ASSET_KEYS_SHOWN]
    more = len(asset_keys) - len(shown)
    assets_text = ", ".join(shown) + (f" (+{more} more)" if more > 0 else "") if shown else "none"
    return Alert(
        kind="run_failure",
        title=f"Dagster run failed: {job_name}",
        fields={"job": job_name, "run id": run_id, "assets": assets_text},
        link_url=run_url,
        link_label="Open the run",
        error=summary,
        data={
            "kind": "run_failure",
            "job_name": job_name,
            "run_id": run_id,
            "asset_keys": list(asset_keys),
            "error": summary,
            "run_url": run_url,
            "failed_at": iso(failed_at),
        },
    )


def asset_stale_alert(
    *,
    asset_key: str,
    fail_window_s: float,
    last_materialization: float | None,
    overdue_s: float,
    ui_base_url: str,
) -> Alert:
    """``last_materialization`` None: never materialized since the sensor started watching."""
    asset_url = f"{ui_base_url.rstrip('/')}/assets/{quote(asset_key, safe='/')}"
    last = iso(last_materialization) or "never"
    return Alert(
        kind="asset_stale",
        title=f"Asset overdue: {asset_key}",
        fields={
            "asset": asset_key,
            "freshness window": f"{int(fail_window_s)} s",
            "last materialization": last,
            "overdue by": f"{int(overdue_s)} s",
        },
        link_url=asset_url,
        link_label="Open the asset",
        data={
            "kind": "asset_stale",
            "asset_key": asset_key,
            "fail_window_seconds": int(fail_window_s),
            "last_materialization": iso(last_materialization),
            "overdue_seconds": int(overdue_s),
            "asset_url": asset_url,
        },
    )


# ---------------------------------------------------------------------------- delivery


class _ThreadWarnings(logging.Handler):
    """apprise says why a send failed only in its log: keep this thread's warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(record.getMessage())


@contextmanager
def _apprise_warnings() -> Iterator[_ThreadWarnings]:
    handler = _ThreadWarnings()
    APPRISE_LOGGER.addHandler(handler)
    try:
        yield handler
    finally:
        APPRISE_LOGGER.removeHandler(handler)


SENDER_JITTER = (1.0, 1.2)


def deliver(
    channel: Channel,
    alert: Alert,
    *,
    attempts: int = 4,
    connect_timeout_s: float = 3.0,
    read_timeout_s: float = 5.0,
    backoff_base_s: float = 0.5,
    backoff_max_s: float = 8.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """Send ``alert`` to one channel through apprise, retrying failures. Never raises.

    apprise reports only success or failure (no status code), so every failure is retried
    under the pipeline's one policy (``retrying.py``), with a small jitter (1..1.2 x the
    exponential step: one sender, so no herd to spread). Worst case with the defaults: 4 x 8 s
    of timeouts plus about 0.5 + 1 + 2 s of backoff, inside the 60 s a sensor tick is allowed.
    """
    tried = 0
    try:
        plugin = apprise.Apprise.instantiate(channel.url.get_secret_value())
    except Exception:  # its message would hold the URL
        plugin = None
    if not plugin:
        return DeliveryResult("failed", 0, f"{channel.service}: URL not understood")
    plugin.socket_connect_timeout = connect_timeout_s
    plugin.socket_read_timeout = read_timeout_s
    extras = getattr(plugin, "payload_extras", None)
    if isinstance(extras, dict):  # json:// webhooks: the alert's fields as top-level keys
        extras.update({k: v for k, v in alert.data.items() if k not in _JSON_RESERVED})

    def attempt() -> DeliveryResult:
        nonlocal tried
        tried += 1
        with _apprise_warnings() as warnings:
            sent = plugin.notify(body=alert.body(), title=alert.title)
        if sent:
            return DeliveryResult("delivered", tried)
        reason = warnings.lines[-1] if warnings.lines else "apprise reported a failure"
        raise RetryLater(redact(reason, [channel])[:300])

    policy = retry_policy(
        attempts=attempts,
        base_s=backoff_base_s,
        max_s=backoff_max_s,
        sleep=sleep,
        jitter=SENDER_JITTER,
    )
    try:
        return policy(attempt)
    except RetryLater as failure:
        return DeliveryResult("failed", tried, failure.reason, (channel.channel_id,))
    except Exception as exc:  # a plugin bug must not fail the caller; its text may hold the URL
        return DeliveryResult("failed", tried, type(exc).__name__, (channel.channel_id,))


def send_alert(
    alert: Alert,
    settings: AlertSettings,
    log: logging.Logger | None = None,
    **delivery_options: Any,
) -> DeliveryResult:
    """Log the alert, then send it to every channel. Delivered when every channel took it."""
    log = log or _default_logger
    if not settings.channels:
        log.warning(f"ALERT (no {URLS_ENV} set, not sent): {alert.text()}")
        return DeliveryResult("not_configured")
    log.info(f"ALERT: {alert.text()}")
    failed: list[str] = []
    details: list[str] = []
    attempts = 0
    for channel in settings.channels:
        try:
            result = deliver(channel, alert, **delivery_options)
        except Exception as exc:  # alerting must never fail the caller
            result = DeliveryResult("failed", 0, type(exc).__name__, (channel.channel_id,))
        attempts += result.attempts
        if result.delivered:
            log.info(f"alert delivered via {channel.service} ({channel.channel_id})")
            continue
        failed.append(channel.channel_id)
        details.append(f"{channel.service}: {result.detail}")
        log.error(
            f"alert delivery via {channel.service} ({channel.channel_id}) failed after "
            f"{result.attempts} attempt(s): {result.detail}"
        )
    status: DeliveryStatus = "failed" if failed else "delivered"
    return DeliveryResult(status, attempts, "; ".join(details), tuple(failed))
