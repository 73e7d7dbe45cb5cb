"""Webhook alerts: what an alert says, how it is rendered (plain JSON or Slack), how it is sent.

Kept free of Dagster so it can be tested with a plain HTTP receiver. Two rules shape it:

* Alerting must never break the pipeline: ``send_alert`` and ``deliver`` never raise; they log
  and return a ``DeliveryResult``.
* Alerts must never leak secrets: a payload is built only from the fields of an ``Alert`` (job
  name, run id, asset keys, error summary, links), never from the environment, and the webhook
  URL itself (a Slack URL *is* a secret) is never logged; logs name only its scheme and host.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import requests

from opinion_pipeline.config import Settings, load_settings
from opinion_pipeline.retrying import RetryLater, parse_retry_after, retry_policy

WEBHOOK_URL_ENV = "OPINION_ALERT_WEBHOOK_URL"
WEBHOOK_FORMAT_ENV = "OPINION_ALERT_WEBHOOK_FORMAT"
DEFAULT_UI_BASE_URL = "http://127.0.0.1:3000"
FORMATS = ("json", "slack")

MAX_ERROR_CHARS = 1500  # enough for a message and the top of a stack; Slack sections take 3000
MAX_ASSET_KEYS_SHOWN = 20

AlertFormat = Literal["json", "slack"]
DeliveryStatus = Literal["delivered", "not_configured", "failed"]

_default_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertSettings:
    """Where and how alerts go; read from the environment at the moment of alerting."""

    webhook_url: str | None = None
    format: AlertFormat = "json"
    ui_base_url: str = DEFAULT_UI_BASE_URL

    @classmethod
    def from_env(cls, log: logging.Logger | None = None) -> AlertSettings:
        """The settings as the environment has them now (``config.Settings``)."""
        return cls.from_settings(load_settings(), log)

    @classmethod
    def from_settings(cls, settings: Settings, log: logging.Logger | None = None) -> AlertSettings:
        """Never raises: an unknown format falls back to ``json`` with a warning."""
        secret = settings.alert_webhook_url
        url = (secret.get_secret_value().strip() or None) if secret is not None else None
        fmt = settings.alert_webhook_format.strip().lower() or "json"
        if fmt not in FORMATS:
            (log or _default_logger).warning(
                f"{WEBHOOK_FORMAT_ENV}={fmt!r} is not one of {FORMATS}; sending plain JSON"
            )
            fmt = "json"
        base = settings.alert_links_base_url
        return cls(webhook_url=url, format=fmt, ui_base_url=base)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Alert:
    """One alert. ``data`` is the JSON body as sent in ``json`` format; the rest drives Slack."""

    kind: str
    title: str
    fields: Mapping[str, str]
    link_url: str
    link_label: str
    error: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """A one-paragraph plain-text rendering (log lines and Slack's fallback text)."""
        parts = [self.title, *(f"{name}: {value}" for name, value in self.fields.items())]
        if self.error:
            parts.append(f"error: {self.error}")
        parts.append(self.link_url)
        return " | ".join(parts)


@dataclass(frozen=True)
class DeliveryResult:
    status: DeliveryStatus
    attempts: int = 0
    http_status: int | None = None
    detail: str = ""
    retryable: bool = False

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


def _iso(timestamp: float | None) -> str | None:
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
            "failed_at": _iso(failed_at),
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
    last = _iso(last_materialization) or "never"
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
            "last_materialization": _iso(last_materialization),
            "overdue_seconds": int(overdue_s),
            "asset_url": asset_url,
        },
    )


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(alert: Alert) -> dict[str, Any]:
    """Slack incoming-webhook body: fallback ``text`` plus Block Kit ``blocks``."""
    link = f"<{alert.link_url.replace('|', '%7C').replace('>', '%3E')}|{alert.link_label}>"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_slack_escape(alert.title)}*"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{name}*\n{_slack_escape(value)[:1900]}"}
                for name, value in list(alert.fields.items())[:10]
            ],
        },
    ]
    if alert.error:
        code = _slack_escape(alert.error.replace("```", "'''"))[:2900]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"```{code}```"}})
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": link}})
    return {"text": _slack_escape(alert.text())[:3000], "blocks": blocks}


def render(alert: Alert, fmt: AlertFormat) -> dict[str, Any]:
    return slack_body(alert) if fmt == "slack" else dict(alert.data)


def redacted_target(url: str) -> str:
    """Scheme and host only: webhook paths and queries carry tokens."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname or '?'}{port}/…"
    except ValueError:
        return "<the webhook>"


SENDER_JITTER = (1.0, 1.2)


def deliver(
    url: str,
    body: Mapping[str, Any],
    *,
    attempts: int = 4,
    connect_timeout_s: float = 3.0,
    read_timeout_s: float = 5.0,
    backoff_base_s: float = 0.5,
    backoff_max_s: float = 8.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """POST ``body`` as JSON; retry connection errors, timeouts, 5xx and 429. Never raises.

    Retries follow the pipeline's one policy (``retrying.py``, shared with the API transport),
    with a small jitter (1..1.2 x the exponential step: one sender, so no herd to spread) and a
    Retry-After capped at ``backoff_max_s``. Worst case with the defaults: 4 x 8 s of timeouts
    plus about 0.5 + 1 + 2 s of backoff, inside the 60 s a sensor evaluation is allowed.
    """
    data = json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "opinion-pipeline-alerts"}
    tried = 0

    def attempt() -> DeliveryResult:
        nonlocal tried
        tried += 1
        try:
            response = requests.post(
                url,
                data=data,
                headers=headers,
                timeout=(connect_timeout_s, read_timeout_s),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # The exception text contains the URL (a secret): keep only the class name.
            raise RetryLater(type(exc).__name__, status=None) from None
        status = response.status_code
        if 200 <= status < 300:
            return DeliveryResult("delivered", tried, status)
        if status != 429 and status < 500:
            return DeliveryResult("failed", tried, status, f"HTTP {status}", retryable=False)
        hinted = parse_retry_after(response.headers.get("Retry-After"))
        wait = None if hinted is None else min(hinted, backoff_max_s)
        raise RetryLater(f"HTTP {status}", retry_after_s=wait, status=status)

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
        return DeliveryResult(
            "failed", tried, failure.detail.get("status"), failure.reason, retryable=True
        )


def send_alert(
    alert: Alert,
    settings: AlertSettings,
    log: logging.Logger | None = None,
    **delivery_options: Any,
) -> DeliveryResult:
    """Log the alert, then post it if a webhook is configured. Never raises."""
    log = log or _default_logger
    try:
        if not settings.webhook_url:
            log.warning(f"ALERT (no {WEBHOOK_URL_ENV} set, not sent): {alert.text()}")
            return DeliveryResult("not_configured")
        log.info(f"ALERT: {alert.text()}")
        result = deliver(settings.webhook_url, render(alert, settings.format), **delivery_options)
    except Exception as exc:  # alerting must never fail the caller
        result = DeliveryResult("failed", detail=f"{type(exc).__name__} while sending")
    if result.delivered:
        log.info(f"alert delivered to {redacted_target(settings.webhook_url or '')}")
    else:
        log.error(
            f"alert delivery to {redacted_target(settings.webhook_url or '')} failed after "
            f"{result.attempts} attempt(s): {result.detail}"
        )
    return result
