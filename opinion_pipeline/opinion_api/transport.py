"""One HTTP request to the Opinion API: headers, timeouts, retries, envelope parsing.

Kept apart from the endpoint methods so the failure policy is in one place and testable
without a server:
- retried (exponential backoff with full jitter, ``Retry-After`` as a minimum): connection
  errors, timeouts, truncated bodies, 408, 425, 429 and 5xx;
- also retried: HTTP 200 with errno/code != 0 (the venue's application layer answers
  "system busy" that way); when retries run out the error is OpinionApplicationError with
  the venue's errno and message;
- not retried: 400, 404 and other 4xx (typed errors), 401 (the key was refused), errno values
  a retry cannot change (10403 "Invalid area": the region is refused), and bodies that are
  complete but not the envelope.
A 429 also pushes the shared limiter back, so every process using the key slows down at once.
The loop itself is the project's one retry policy (``opinion_pipeline.retrying``, tenacity).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from opinion_pipeline.opinion_api import errors
from opinion_pipeline.opinion_api.rate_limiter import RateLimiter
from opinion_pipeline.opinion_api.stats import Stats
from opinion_pipeline.retrying import (
    RETRY_AFTER_CAP_S,
    RetryLater,
    backoff_delay,
    parse_retry_after,
    retry_policy,
)

__all__ = ["RETRY_AFTER_CAP_S", "Transport", "backoff_delay", "parse_envelope", "parse_retry_after"]

log = logging.getLogger("opinion_pipeline.opinion_api")

RETRY_STATUSES = frozenset({408, 425, 429})
# Venue errno values a retry cannot change: failed at once, with what to do.
PERMANENT_ERRNOS = frozenset({errors.REGION_REFUSED_ERRNO})
# A 429 without Retry-After: the venue's bucket refills in one second.
DEFAULT_429_PENALTY_S = 1.0
USER_AGENT = "opinion-pipeline (+https://github.com/; Dagster)"


def _to_int(value: Any) -> Any:
    """errno/code may arrive as "0": compare numerically when we can."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def looks_truncated(
    text: str, exc: json.JSONDecodeError, size: int, content_length: int | None
) -> bool:
    """A cut-off body (worth retrying) rather than garbage: shorter than announced, empty,
    an object/array that never closes, or a parse error at the very end of the text."""
    stripped = text.strip()
    if not stripped or (content_length is not None and size < content_length):
        return True
    if stripped[0] in "{[" and stripped[-1] not in "}]":
        return True
    return exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip()) - 1


def parse_envelope(body: bytes | str, route: str, *, content_length: int | None = None) -> Any:
    """Return ``result`` from either dialect: {errno, errmsg, result} or {code, msg, result}.

    Raises OpinionApplicationError for errno/code != 0, OpinionPayloadError otherwise; the
    payload error's ``truncated`` flag says whether the body looks cut short (retryable).
    """
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    size = len(body)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = looks_truncated(text, exc, size, content_length)
        kind = "a truncated" if truncated else "a non-JSON"
        raise errors.OpinionPayloadError(
            f"{route} returned {kind} body ({size} bytes): {exc.msg}",
            route=route,
            truncated=truncated,
        ) from None
    if not isinstance(doc, dict):
        raise errors.OpinionPayloadError(
            f"{route} returned JSON without the response envelope (a {type(doc).__name__})",
            route=route,
        )
    if "errno" in doc:
        code, message = _to_int(doc.get("errno")), doc.get("errmsg")
    elif "code" in doc:
        code, message = _to_int(doc.get("code")), doc.get("msg")
    else:
        keys = ", ".join(sorted(map(str, doc))[:8])
        raise errors.OpinionPayloadError(
            f"{route} returned JSON without errno/code (keys: {keys})", route=route
        )
    if code == errors.REGION_REFUSED_ERRNO:
        raise errors.OpinionRegionRefusedError(
            f"{route} failed: {errors.REGION_REFUSED_ADVICE}",
            route=route,
            errno=code,
            errmsg=str(message or ""),
        )
    if code not in (0, None):
        raise errors.OpinionApplicationError(
            f"{route} failed with venue errno {code}: {message or '(no message)'}",
            route=route,
            errno=code,
            errmsg=str(message or ""),
        )
    if "result" not in doc:
        raise errors.OpinionPayloadError(
            f"{route} returned an envelope without result", route=route
        )
    return doc["result"]


class Transport:
    """Sends GETs with the key header, pacing, timeouts and the retry policy; thread-safe.

    Each thread gets its own ``requests.Session`` (sessions are not documented as thread-safe),
    all sessions share one limiter and one Stats.
    """

    def __init__(
        self,
        *,
        api_key: str,
        limiter: RateLimiter,
        stats: Stats,
        connect_timeout_s: float,
        read_timeout_s: float,
        max_retries: int,
        backoff_base_s: float,
        backoff_max_s: float,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._api_key = api_key
        self.limiter = limiter
        self.stats = stats
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._local = threading.local()
        # Weak: a session dies with its thread (thread pools come and go); close() ends the rest.
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._sessions_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Transport(timeout={self.timeout}, max_retries={self.max_retries}, api_key='***')"

    def close(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = list(self._sessions), weakref.WeakSet()
        for session in sessions:
            session.close()
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
            self._local.session = session
            with self._sessions_lock:
                self._sessions.add(session)
        return session

    def scrub(self, text: str) -> str:
        """Last line of defence: a venue echoing the key back must not put it in our messages."""
        return text.replace(self._api_key, "***") if self._api_key else text

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``url`` and return the envelope's ``result``; raises a typed OpinionAPIError."""
        route = describe_route(url, params)
        try:
            return self._get(url, params, route)
        except errors.OpinionAPIError as exc:
            self.stats.add("errors")
            exc.message = self.scrub(exc.message)
            exc.args = (exc.message,)
            raise

    def _get(self, url: str, params: Mapping[str, Any] | None, route: str) -> Any:
        policy = retry_policy(
            attempts=self.max_retries + 1,
            base_s=self.backoff_base_s,
            max_s=self.backoff_max_s,
            sleep=self._sleep,
            rng=self._rng,
            on_retry=partial(self._note_retry, route),
        )
        attempt = 0
        try:
            for trying in policy:
                with trying:
                    attempt = trying.retry_state.attempt_number
                    return self._attempt(url, params, route, attempt)
        except RetryLater as last:
            error_cls = last.detail.get("error_cls", errors.OpinionRetriesExhaustedError)
            raise error_cls(
                f"{route} failed after {attempt} attempt{'s' if attempt > 1 else ''}: "
                f"last error {last.reason}",
                route=route,
                attempts=attempt,
                reason=last.reason,
                **last.detail.get("extra", {}),
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _note_retry(self, route: str, failure: RetryLater, attempt: int, delay: float) -> None:
        log.warning(
            "Opinion API %s: %s; retry %d/%d in %.2fs",
            route,
            failure.reason,
            attempt,
            self.max_retries,
            delay,
        )
        self.stats.add("retries")
        self.stats.add("backoff_wait_s", delay)

    def _attempt(self, url: str, params: Mapping[str, Any] | None, route: str, attempt: int) -> Any:
        """One request: the result, a final typed error, or RetryLater naming what failed."""
        self.stats.add("limiter_wait_s", self.limiter.acquire())
        self.stats.add("requests")
        try:
            response = self._session().get(
                url,
                params=params,
                headers={"apikey": self._api_key},
                timeout=self.timeout,
                allow_redirects=False,  # requests would carry `apikey` to any host
            )
        except requests.Timeout as exc:
            self.stats.add("timeouts")
            raise _retry(f"timed out ({_exc_name(exc)})", errors.OpinionTimeoutError) from None
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            self.stats.add("truncated")
            raise _retry(f"response body cut short ({_exc_name(exc)})") from None
        except requests.ConnectionError as exc:
            if "timed out" in str(exc).lower():
                self.stats.add("timeouts")
                raise _retry("timed out reading the body", errors.OpinionTimeoutError) from None
            self.stats.add("connection_errors")
            raise _retry(f"connection failed ({_exc_name(exc)})") from None
        except requests.RequestException as exc:
            raise errors.OpinionAPIError(
                f"{route} could not be sent: {_exc_name(exc)}", route=route, attempts=attempt
            ) from None
        if response.status_code != 200:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            reason, error_cls = self._status_failure(
                response.status_code, route, attempt, retry_after
            )
            raise _retry(reason, error_cls, retry_after_s=retry_after)
        try:
            return parse_envelope(response.content, route, content_length=_content_length(response))
        except errors.OpinionApplicationError as exc:
            self.stats.add("application_errors")
            if exc.errno in PERMANENT_ERRNOS:
                exc.attempts = attempt
                raise
            reason = f"venue errno {exc.errno}: {exc.errmsg or '(no message)'}"
            extra = {"errno": exc.errno, "errmsg": exc.errmsg}
            raise _retry(reason, errors.OpinionApplicationError, extra=extra) from None
        except errors.OpinionPayloadError as exc:
            if not exc.truncated:
                exc.attempts = attempt
                raise
            self.stats.add("truncated")
            raise _retry(str(exc.message).replace(f"{route} returned ", "")) from None

    def _status_failure(
        self, status: int, route: str, attempt: int, retry_after: float | None
    ) -> tuple[str, type[errors.OpinionRetriesExhaustedError]]:
        """Classify a non-200 status: return (reason, error class) if retryable, else raise."""
        if status == 429:
            self.stats.add("rate_limited")
            self.limiter.penalize(retry_after if retry_after is not None else DEFAULT_429_PENALTY_S)
            return "HTTP 429 Too Many Requests", errors.OpinionRateLimitedError
        if status in RETRY_STATUSES or status >= 500:
            self.stats.add("server_errors")
            return f"HTTP {status}", errors.OpinionRetriesExhaustedError
        if 300 <= status < 400:
            raise errors.OpinionHTTPError(
                f"{route} answered HTTP {status} (a redirect, not followed so the key is never "
                "sent elsewhere): check OPINION_API_BASE_URL",
                route=route,
                status=status,
                attempts=attempt,
            )
        if status == 401:
            raise errors.OpinionAuthError(
                f"{route} was refused with HTTP 401: the Opinion API did not accept the API key "
                "in OPINION_API_KEY (check it is the key you were granted, or, against the "
                "simulator, the --api-key it was started with)",
                route=route,
                status=status,
                attempts=attempt,
            )
        error_cls = {
            400: errors.OpinionBadRequestError,
            404: errors.OpinionNotFoundError,
        }.get(status, errors.OpinionHTTPError)
        raise error_cls(
            f"{route} failed with HTTP {status} (not retried)",
            route=route,
            status=status,
            attempts=attempt,
        )


def _retry(
    reason: str,
    error_cls: type[errors.OpinionAPIError] = errors.OpinionRetriesExhaustedError,
    *,
    retry_after_s: float | None = None,
    extra: dict[str, Any] | None = None,
) -> RetryLater:
    """A retryable failure; ``error_cls`` is what it becomes when the attempts run out."""
    return RetryLater(reason, retry_after_s=retry_after_s, error_cls=error_cls, extra=extra or {})


def describe_route(url: str, params: Mapping[str, Any] | None = None) -> str:
    """'GET /openapi/market?page=2&limit=20': what errors and logs name (never the key)."""
    parts = urlsplit(url)
    query = urlencode({k: v for k, v in (params or {}).items() if v is not None})
    return f"GET {parts.path or '/'}{'?' + query if query else ''}"


def _content_length(response: requests.Response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _exc_name(exc: BaseException) -> str:
    """Name the innermost cause (ReadTimeoutError, IncompleteRead...) without URLs or headers."""
    names = [type(exc).__name__]
    inner = exc.args[0] if exc.args else None
    while isinstance(inner, BaseException) and len(names) < 4:
        names.append(type(inner).__name__)
        inner = getattr(inner, "reason", None) or (inner.args[0] if inner.args else None)
    return " / ".join(dict.fromkeys(names))
