"""Alert channels: apprise URLs from the configuration, and keeping them secret.

A channel is one apprise URL (``slack://…``, ``tgram://…``, ``json://host/path``). The URL is a
secret (tokens, passwords): it is held as a ``SecretStr`` and never logged or stored. A channel
is named by its service (apprise's name) and ``channel_id``, its scheme and a hash of the URL,
which the alert ledger keys on. apprise's own log lines (its debug lines print JSON webhook
URLs; urllib3's print request paths) pass a filter that redacts every fragment of a URL.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import apprise
from pydantic import SecretStr

from opinion_pipeline.config import Settings, load_settings

URLS_ENV = "OPINION_ALERT_URLS"
WEBHOOK_URL_ENV = "OPINION_ALERT_WEBHOOK_URL"  # the old single webhook: read as a json:// URL
WEBHOOK_FORMAT_ENV = "OPINION_ALERT_WEBHOOK_FORMAT"
DEFAULT_UI_BASE_URL = "http://127.0.0.1:3000"

_default_logger = logging.getLogger("opinion_pipeline.automation.alerts")
APPRISE_LOGGER = logging.getLogger("apprise")  # every apprise plugin logs here


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
APPRISE_LOGGER.addFilter(_redactor)
# requests' connection pool logs each request line (a webhook's path is its token) at DEBUG.
logging.getLogger("urllib3.connectionpool").addFilter(_redactor)


def redact(text: str, channels: Sequence[Channel]) -> str:
    """``text`` without any fragment of these channels' URLs."""
    return redact_urls(text, [channel.url.get_secret_value() for channel in channels])


def redact_urls(text: str, urls: Sequence[str]) -> str:
    fragments = {fragment for url in urls for fragment in _secret_fragments(url)}
    for fragment in sorted(fragments, key=len, reverse=True):
        text = text.replace(fragment, "[redacted]")
    return text


def configured_urls(settings: Settings) -> tuple[list[str], list[str]]:
    """The apprise URLs of OPINION_ALERT_URLS and the old webhook, and what is wrong with them
    (in words without the URL)."""
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
    return urls, problems


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
    def from_urls(
        cls, urls: Sequence[str], ui_base_url: str = DEFAULT_UI_BASE_URL
    ) -> AlertSettings:
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
        urls, problems = configured_urls(settings)
        made = cls.from_urls(urls, settings.alert_links_base_url)
        made = cls(made.channels, made.ui_base_url, (*problems, *made.problems))
        for problem in made.problems:
            (log or _default_logger).error(f"alert configuration: {problem}")
        return made
