"""One retry policy for everything that talks HTTP: the API transport and alert delivery.

tenacity runs the loop (attempts, waits, the stop rule, hooks). This module adds what tenacity
does not know about HTTP: full-jitter exponential backoff with a server's ``Retry-After`` as a
floor, and giving up at once when a server asks for a longer wait than we are willing to sleep.
An attempt that may be retried raises :class:`RetryLater`; anything else it raises is final.
When the attempts run out, the last ``RetryLater`` is raised for the caller to turn into its own
error (the transport's typed errors, the alert ledger's failure record).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception_type

# Cap on a server-sent Retry-After we are willing to sleep; beyond it we give up instead.
RETRY_AFTER_CAP_S = 120.0
FULL_JITTER = (0.0, 1.0)


class RetryLater(Exception):
    """One attempt failed in a way worth retrying; ``reason`` says how, for logs and errors."""

    def __init__(self, reason: str, *, retry_after_s: float | None = None, **detail: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s
        self.detail = detail


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait per a Retry-After header (delta-seconds or HTTP date); None if bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def backoff_delay(
    retry_number: int,
    base_s: float,
    max_s: float,
    *,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
    jitter: tuple[float, float] = FULL_JITTER,
) -> float:
    """Exponential backoff: uniform(low, high) x min(max_s, base_s * 2**(n-1)) for retry n >= 1.

    Full jitter (the default, 0..1) spreads the retries of many workers that failed together;
    a lone caller that must really wait (alert delivery) uses 1..1.2. A server-sent
    Retry-After is honoured as a floor (capped at RETRY_AFTER_CAP_S).
    """
    ceiling = min(max_s, base_s * (2 ** max(0, retry_number - 1)))
    low, high = jitter
    delay = (rng or random).uniform(low * ceiling, high * ceiling) if ceiling > 0 else 0.0
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, RETRY_AFTER_CAP_S))
    return delay


def _last_failure(state: RetryCallState) -> RetryLater | None:
    error = state.outcome.exception() if state.outcome is not None else None
    return error if isinstance(error, RetryLater) else None


def retry_policy(
    *,
    attempts: int,
    base_s: float,
    max_s: float,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[RetryLater, int, float], None] | None = None,
    jitter: tuple[float, float] = FULL_JITTER,
) -> Retrying:
    """A tenacity ``Retrying`` for up to ``attempts`` tries of an attempt raising RetryLater.

    ``on_retry(failure, attempt_number, delay)`` runs before each wait (logs, counters).
    """

    def wait(state: RetryCallState) -> float:
        failure = _last_failure(state)
        retry_after = failure.retry_after_s if failure is not None else None
        return backoff_delay(
            state.attempt_number, base_s, max_s, retry_after_s=retry_after, rng=rng, jitter=jitter
        )

    def stop(state: RetryCallState) -> bool:
        failure = _last_failure(state)
        too_long = failure is not None and (failure.retry_after_s or 0.0) > RETRY_AFTER_CAP_S
        return state.attempt_number >= attempts or too_long

    def before_sleep(state: RetryCallState) -> None:
        failure = _last_failure(state)
        if on_retry is not None and failure is not None and state.next_action is not None:
            on_retry(failure, state.attempt_number, state.next_action.sleep)

    return Retrying(
        retry=retry_if_exception_type(RetryLater),
        wait=wait,
        stop=stop,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
