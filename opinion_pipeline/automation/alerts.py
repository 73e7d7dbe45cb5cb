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
  alert ledger name a channel by its service and ``Channel.channel_id`` (a hash). apprise's own
  log lines (its debug lines print JSON webhook URLs) pass a filter that redacts every URL part.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

import apprise
from pydantic import SecretStr

from opinion_pipeline.config import Settings, load_settings
from opinion_pipeline.retrying import RetryLater, retry_policy

URLS_ENV = "OPINION_ALERT_URLS"
WEBHOOK_URL_ENV = "OPINION_ALERT_WEBHOOK_URL"  # the old single webhook: read as a json:// URL
WEBHOOK_FORMAT_ENV = "OPINION_ALERT_WEBHOOK_FORMAT"
DEFAULT_UI_BASE_URL = "http://127.0.0.1:3000"

MAX_ERROR_CHARS = 1500  # enough for a message and the top of a stack
MAX_ASSET_KEYS_SHOWN = 20
# The keys apprise's JSON body already has: an alert's fields must not overwrite them.
_JSON_RESERVED = {"version", "title", "message", "attachments", "type"}

DeliveryStatus = Literal["delivered", "not_configured", "failed"]

_default_logger = logging.getLogger(__name__)
_apprise_logger = logging.getLogger("apprise")  # every apprise plugin logs here


# ----------------------------------------------------------------------------- channels


@dataclass(frozen=True)
class Channel:
    """One apprise URL. ``service`` and ``channel_id`` are safe to log and store; ``url`` is not."""

    service: str
    channel_id: str
    url: SecretStr = field(repr=False)


def _split_urls(raw: str) -> list[str]:
    """Split on commas or whitespace that precede a new ``scheme://`` (a URL's own query may
    hold commas, e.g. several e-mail recipients)."""
    parts = re.split(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.-]*://)", raw.strip())
    return [part.strip().strip(",") for part in parts if part.strip().strip(",")]


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else "?"


def _from_old_webhook(url: str, fmt: str) -> tuple[str | None, str | None]:
    """OPINION_ALERT_WEBHOOK_URL as an apprise URL: a plain JSON webhook, or a native Slack one."""
    fmt = (fmt or "json").strip().lower()
    parts = urlsplit(url)
    if fmt == "slack":
        if (parts.hostname or "").startswith("hooks.slack"):
            return url, None  # apprise reads https://hooks.slack.com/services/... itself
        return None, (
            f"{WEBHOOK_FORMAT_ENV}=slack works only with a hooks.slack.com URL now; put an "
            f"apprise URL (slack://…, mmost://… for a Slack-compatible server) in {URLS_ENV}"
        )
    if fmt != "json":
        return None, f"{WEBHOOK_FORMAT_ENV}={fmt!r} is not json or slack; use {URLS_ENV}"
    if parts.scheme not in ("http", "https"):
        return None, f"{WEBHOOK_URL_ENV} must be an http(s) URL (scheme {parts.scheme!r})"
    return ("jsons" if parts.scheme == "https" else "json") + url[len(parts.scheme) :], None


def channel_of(url: str) -> Channel | None:
    """The channel for one apprise URL, or None when apprise does not know its scheme."""
    try:
        plugin = apprise.Apprise.instantiate(url)
    except Exception:
        plugin = None
    if not plugin:
        return None
    service = str(getattr(plugin, "service_name", None) or _scheme(url))
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return Channel(service, f"{_scheme(url)}:{digest}", SecretStr(url))


def _secret_fragments(url: str) -> set[str]:
    """The pieces of a URL that may be secrets: the whole URL, its path, query, credentials,
    each of their parts of six characters or more, and the host when it is not a DNS name or an
    address (apprise puts tokens there: ``tgram://<bot token>/``, ``slack://<a>/<b>/<c>``)."""
    parts = urlsplit(url)
    pieces = {url, parts.path, parts.query, parts.password or "", parts.username or ""}
    pieces |= set(parts.path.split("/")) | set(re.split(r"[&=]", parts.query))
    try:
        host = parts.hostname or ""
    except ValueError:
        host = ""
    if "@" in parts.netloc or "." not in host:
        pieces.add(parts.netloc)
        pieces |= {piece for piece in re.split(r"[:@]", parts.netloc) if "." not in piece}
    pieces |= {unquote(piece) for piece in pieces}
    return {piece for piece in pieces if len(piece) >= 6}


class _RedactSecrets(logging.Filter):
    """Rewrites apprise's log records without any fragment of a configured URL."""

    def __init__(self) -> None:
        super().__init__()
        self.fragments: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.fragments:
            message = record.getMessage()
            for fragment in sorted(self.fragments, key=len, reverse=True):
                message = message.replace(fragment, "[redacted]")
            record.msg, record.args = message, ()
        return True


_redactor = _RedactSecrets()
_apprise_logger.addFilter(_redactor)
# requests' connection pool logs each request line (a webhook's path is its token) at DEBUG.
logging.getLogger("urllib3.connectionpool").addFilter(_redactor)


def redact(text: str, channels: Sequence[Channel]) -> str:
    for fragment in sorted(
        {f for channel in channels for f in _secret_fragments(channel.url.get_secret_value())},
        key=len,
        reverse=True,
    ):
        text = text.replace(fragment, "[redacted]")
    return text


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go; read from the environment (``config.Settings``) when alerting."""

    channels: tuple[Channel, ...] = ()
    ui_base_url: str = DEFAULT_UI_BASE_URL
    problems: tuple[str, ...] = ()  # configuration errors, safe to show (no URL in them)

    @classmethod
    def from_env(cls, log: logging.Logger | None = None) -> AlertSettings:
        return cls.from_settings(load_settings(), log)

    @classmethod
    def from_urls(cls, urls: Sequence[str], ui_base_url: str = DEFAULT_UI_BASE_URL):
        """Settings for these apprise URLs (tests, and ``from_settings``)."""
        channels: list[Channel] = []
        problems: list[str] = []
        # Before apprise sees them: it logs a URL it cannot read.
        _redactor.fragments |= {fragment for url in urls for fragment in _secret_fragments(url)}
        for number, url in enumerate(urls, 1):
            channel = channel_of(url)
            if channel is None:
                problems.append(
                    f"alert URL {number} (scheme {_scheme(url)!r}) is not one apprise knows; "
                    "it gets no alerts"
                )
            elif channel.channel_id not in {known.channel_id for known in channels}:
                channels.append(channel)
        return cls(tuple(channels), ui_base_url.rstrip("/"), tuple(problems))

    @classmethod
    def from_settings(cls, settings: Settings, log: logging.Logger | None = None) -> AlertSettings:
        """Never raises: a URL apprise cannot read is left out with an error line (no URL)."""
        urls: list[str] = []
        problems: list[str] = []
        if settings.alert_urls is not None:
            urls.extend(_split_urls(settings.alert_urls.get_secret_value()))
        if settings.alert_webhook_url is not None:
            old = settings.alert_webhook_url.get_secret_value().strip()
            if old:
                url, problem = _from_old_webhook(old, settings.alert_webhook_format)
                urls.extend([url] if url else [])
                problems.extend([problem] if problem else [])
        made = cls.from_urls(urls, settings.alert_links_base_url)
        made = cls(made.channels, made.ui_base_url, (*problems, *made.problems))
        for problem in made.problems:
            (log or _default_logger).error(f"alert configuration: {problem}")
        return made


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
    _apprise_logger.addHandler(handler)
    try:
        yield handler
    finally:
        _apprise_logger.removeHandler(handler)


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
    plugin = apprise.Apprise.instantiate(channel.url.get_secret_value())
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
