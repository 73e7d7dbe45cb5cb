"""Typed errors of the Opinion API client.

Callers branch on the type (retry the step, skip a wallet, stop the run), so every failure
mode has its own class. None of them ever holds the API key: messages are built from the
route (path and query, which never carry the key) and scrubbed once more by the transport.
Errors pickle cleanly (keyword attributes survive), because Dagster and multiprocessing move
them between processes.
"""

from __future__ import annotations

from typing import Any

MISSING_KEY_MESSAGE = (
    "OPINION_API_KEY is not set (or is empty), so the Opinion API client will not send any "
    "request. To use the real API, apply for a key through the 'Opinion Open API' application "
    "form linked from https://docs.opinion.trade (approval can take days), then "
    "`export OPINION_API_KEY=<your key>`. To run without a key, start the local simulator "
    "(`python -m opinion_pipeline.simulator --port 8765 --api-key <any string>`, see README.md) "
    "and set OPINION_API_KEY to that same string and OPINION_API_BASE_URL to the URL it prints."
)


class OpinionAPIError(Exception):
    """Base class of every error raised by the Opinion API client."""

    def __init__(
        self,
        message: str,
        *,
        route: str | None = None,
        status: int | None = None,
        attempts: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.route = route
        self.status = status
        self.attempts = attempts
        for name, value in extra.items():
            setattr(self, name, value)

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from the message, then restore the keyword attributes.
        return (self.__class__, (self.message,), dict(self.__dict__))

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class OpinionConfigError(OpinionAPIError, ValueError):
    """The client is misconfigured (bad URL, bad number); nothing was sent."""


class MissingAPIKeyError(OpinionConfigError):
    """No API key: raised before any request, with directions to get one or use the simulator."""

    def __init__(self, message: str = MISSING_KEY_MESSAGE, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class OpinionAuthError(OpinionAPIError):
    """HTTP 401: the venue refused the API key. Retrying cannot help."""


class OpinionHTTPError(OpinionAPIError):
    """An HTTP error status that is not retried (400, 403, 404, other 4xx)."""


class OpinionBadRequestError(OpinionHTTPError):
    """HTTP 400: the venue rejected the parameters (a bug on our side, not transient)."""


class OpinionNotFoundError(OpinionHTTPError):
    """HTTP 404: no such market or route."""


class OpinionApplicationError(OpinionAPIError):
    """HTTP 200 whose envelope carries errno/code != 0; ``errno`` and ``errmsg`` are the venue's."""

    errno: int | str
    errmsg: str


class OpinionRegionRefusedError(OpinionApplicationError):
    """errno 10403 "Invalid area": the venue refuses requests from this machine's region.

    A retry from the same place gets the same answer, so it is never retried.
    """


REGION_REFUSED_ERRNO = 10403
REGION_REFUSED_ADVICE = (
    "the Opinion API refuses requests from this machine's region (errno 10403, "
    "'Invalid area'; reported for US IP addresses). Retrying will not help: run the pipeline "
    "from a machine or network in a region the venue serves"
)


class OpinionPayloadError(OpinionAPIError):
    """The body is not JSON, lacks the envelope, or has an unexpected shape."""

    truncated: bool = False


class OpinionRetriesExhaustedError(OpinionAPIError):
    """A retryable failure (5xx, 429, timeout, dropped or truncated response) persisted.

    ``reason`` is a short description of the last failure; ``attempts`` how many were made.
    """

    reason: str = ""


class OpinionRateLimitedError(OpinionRetriesExhaustedError):
    """The last attempt was answered with HTTP 429."""


class OpinionTimeoutError(OpinionRetriesExhaustedError):
    """The last attempt timed out (connect or read)."""
