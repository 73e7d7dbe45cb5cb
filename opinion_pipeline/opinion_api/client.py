"""OpinionAPI: the Opinion OpenAPI client, as a Dagster resource and as a plain object.

Endpoint methods return the venue's rows as dicts, in API order, untouched (decimals stay
strings): validation and typing happen downstream, where failures can be quarantined.

Missing key (decision): in Dagster 1.13 an *unset* ``EnvVar("OPINION_API_KEY")`` fails config
post-processing before any resource code runs, with Dagster's generic "You have attempted to
fetch the environment variable ... which is not set". So definitions should build the resource
with ``OpinionAPI.from_env()``: it passes ``EnvVar("OPINION_API_KEY")`` (the UI shows only the
name) when the variable is set, and ``""`` otherwise, so the run fails in
``setup_for_execution`` with MISSING_KEY_MESSAGE (how to get a key, how to use the simulator).
Run workers re-import the definitions, so the check sees the run's own environment. Plain use
(``OpinionAPI(api_key=...)``) checks the key lazily, before the first request.
"""

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from dagster import ConfigurableResource, EnvVar, InitResourceContext
from pydantic import Field, PrivateAttr, field_validator

from opinion_pipeline.config import (
    PRODUCTION_BASE_URL,
    UNOFFICIAL_LEADERBOARD_URL,
    Settings,
    load_settings,
)
from opinion_pipeline.opinion_api import errors
from opinion_pipeline.opinion_api.paging import (
    WalletTrades,
    page_rows,
    read_pages_concurrently,
    walk_pages,
    walk_wallet_trades,
)
from opinion_pipeline.opinion_api.rate_limiter import RateLimiter, default_limiter_dir
from opinion_pipeline.opinion_api.stats import Stats
from opinion_pipeline.opinion_api.transport import Transport, describe_route

PAGE_LIMIT = 20  # the venue's maximum; larger values are undocumented
MAX_PAGES = 100_000  # runaway guard for a server that never reports an end
PAGE_READERS = 4  # market pages in flight at once (the shared limiter still paces them)
MARKET_STATUSES = (None, "activated", "resolved")
_WALLET_RE = re.compile(r"0x[0-9a-fA-F]{40}")

__all__ = ["PRODUCTION_BASE_URL", "UNOFFICIAL_LEADERBOARD_URL", "OpinionAPI", "WalletTrades"]


def _check_url(value: Any, name: str) -> Any:
    if isinstance(value, EnvVar):  # resolved and validated again at run time
        return value
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{name} must be an http(s) URL such as {PRODUCTION_BASE_URL!r} "
            f"(the simulator prints its own), got {value!r}"
        )
    return value.rstrip("/")


class _Masked:
    """Shows an EnvVar by name and a literal key as '***' in reprs."""

    def __init__(self, value: str) -> None:
        self._text = (
            f"EnvVar({value.env_var_name!r})"
            if isinstance(value, EnvVar)
            else repr("***" if value else "")
        )

    def __repr__(self) -> str:
        return self._text


def _resolve(value: str) -> str:
    """An EnvVar used outside Dagster: read the variable now."""
    return (value.get_value() or "") if isinstance(value, EnvVar) else value


class OpinionAPI(ConfigurableResource):
    """Opinion OpenAPI client: paced, retried, typed errors; never leaks the key.

    Thread-safe: one ``requests.Session`` per thread, one shared cross-process rate limiter.

    Why 14.4 requests/second by default: the venue allows 15/s per key, which the simulator
    models as a token bucket of 15 refilled at 15/s. We pace strictly (one slot every 1/14.4 s,
    no burst), so the bucket is never drained by us, only by jitter: requests bunching on the
    way (a scheduler or network stall releasing queued requests together). The bucket's
    capacity absorbs such bunching and the 0.6 token/s surplus (4%) refills it within seconds,
    so 429s do not happen; and 14.4/15 = 0.96 still meets the project's >= 0.95 utilisation
    target. Closer to 15 the surplus becomes too thin to absorb repeated stalls.
    """

    base_url: str = Field(
        default=PRODUCTION_BASE_URL,
        description="OpenAPI root (env OPINION_API_BASE_URL); the simulator prints its own.",
    )
    api_key: str = Field(
        default="",
        description="API key sent in the `apikey` header. Use OpinionAPI.from_env() or "
        "EnvVar('OPINION_API_KEY'); never a literal (the UI would show it).",
    )
    leaderboard_url: str = Field(
        default=UNOFFICIAL_LEADERBOARD_URL,
        description="UNOFFICIAL leaderboard endpoint (undocumented; may change or vanish).",
    )
    rate_limit_per_second: float = Field(
        default=14.4,
        gt=0,
        description="Requests/second for this key across all processes on this machine. The "
        "venue allows 15/s; 14.4 (96%) leaves 0.6 token/s of headroom so timing jitter never "
        "drains the venue's 15-token bucket.",
    )
    max_retries: int = Field(default=3, ge=0, le=10, description="Retries after the first try.")
    connect_timeout_s: float = Field(default=5.0, gt=0, description="TCP/TLS connect timeout.")
    read_timeout_s: float = Field(default=20.0, gt=0, description="Timeout between body bytes.")
    backoff_base_s: float = Field(
        default=0.5, ge=0, description="First retry waits up to this (full jitter), then doubles."
    )
    backoff_max_s: float = Field(default=8.0, ge=0, description="Cap of one backoff wait.")
    limiter_dir: str | None = Field(
        default=None,
        description="Directory of the shared rate-limiter state (default: a per-user directory "
        "under the system temp dir). Processes must share it to share the budget.",
    )
    chain_id: str = Field(default="56", description="chainId query parameter (BNB Chain).")
    check_key_at_start: bool = Field(
        default=True,
        description="Fail the run before any step when the key is missing (False for the "
        "health check, which reports a missing key as a failed check instead).",
    )

    _stats: Stats = PrivateAttr(default_factory=Stats)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)
    _transport: Transport | None = PrivateAttr(default=None)

    @field_validator("base_url", mode="before")
    @classmethod
    def _valid_base_url(cls, value: Any) -> Any:
        return _check_url(value, "OPINION_API_BASE_URL (base_url)")

    @field_validator("leaderboard_url", mode="before")
    @classmethod
    def _valid_leaderboard_url(cls, value: Any) -> Any:
        return _check_url(value, "leaderboard_url")

    @classmethod
    def from_env(cls, **overrides: Any) -> "OpinionAPI":
        """The resource as the environment configures it (``config.Settings``).

        The key is passed as ``EnvVar("OPINION_API_KEY")`` when set (the UI shows the name,
        never the value), else ``""`` so the run fails with MISSING_KEY_MESSAGE; keyword
        ``overrides`` win over the environment.
        """
        return cls.from_settings(load_settings(), **overrides)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> "OpinionAPI":
        kwargs: dict[str, Any] = {
            "api_key": EnvVar("OPINION_API_KEY") if settings.has_api_key else "",
            "base_url": settings.api_base_url,
            "leaderboard_url": settings.leaderboard_url,
            "rate_limit_per_second": settings.rate_limit_per_second,
            "max_retries": settings.max_retries,
            "limiter_dir": settings.rate_limit_dir,
        }
        kwargs.update(overrides)
        return cls(**kwargs)

    # -- secrets stay out of every representation ------------------------------------------
    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name == "api_key":
                yield name, _Masked(value)
            else:
                yield name, value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__repr_str__(', ')})"

    def __str__(self) -> str:
        return self.__repr__()

    # -- lifecycle ------------------------------------------------------------------------------
    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Fail the run at resource init, before any step, if the key is missing."""
        if self.check_key_at_start:
            self._get_transport()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP sessions (the client stays usable; sessions reopen on demand)."""
        with self._lock:
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def _get_transport(self) -> Transport:
        transport = self._transport
        if transport is not None:
            return transport
        with self._lock:
            if self._transport is None:
                self._transport = self._build_transport()
            return self._transport

    def _build_transport(self) -> Transport:
        key = _resolve(self.api_key).strip()
        if not key:
            raise errors.MissingAPIKeyError()
        base_url = _check_url(_resolve(self.base_url), "OPINION_API_BASE_URL (base_url)")
        directory = self.limiter_dir or str(default_limiter_dir())
        limiter = RateLimiter.for_key(
            directory, key, urlsplit(base_url).netloc, self.rate_limit_per_second
        )
        return Transport(
            api_key=key,
            limiter=limiter,
            stats=self._stats,
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            max_retries=self.max_retries,
            backoff_base_s=self.backoff_base_s,
            backoff_max_s=self.backoff_max_s,
        )

    # -- stats ----------------------------------------------------------------------------------
    def stats(self) -> dict[str, float]:
        """Counters since creation or reset: requests, retries, rate_limited (429s), errors,
        limiter_wait_s, backoff_wait_s, pages, shift_duplicates_dropped, restarts, ..."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        self._stats.reset()

    # -- plumbing -------------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return _resolve(self.base_url).rstrip("/") + path

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        transport = self._get_transport()
        return transport.get(self._url(path), params)

    def _read_page(
        self, path: str, page: int, extra: dict[str, Any] | None = None
    ) -> tuple[int | None, list[dict[str, Any]]]:
        params = {**(extra or {}), "page": page, "limit": PAGE_LIMIT, "chainId": self.chain_id}
        result = self._get(path, params)
        self._stats.add("pages")
        return page_rows(result, describe_route(self._url(path), params))

    def iter_pages(
        self, path: str, extra: dict[str, Any] | None = None
    ) -> Iterator[tuple[int | None, list[dict[str, Any]]]]:
        """Yield (total, rows) per page, from page 1 until a short/empty page or ``total``."""
        yield from walk_pages(
            lambda page: self._read_page(path, page, extra),
            page_limit=PAGE_LIMIT,
            max_pages=MAX_PAGES,
        )

    # -- markets --------------------------------------------------------------------------------
    def iter_market_pages(self, status: str | None = None) -> Iterator[list[dict[str, Any]]]:
        """Market rows page by page (marketType=2: binary and categorical)."""
        for _total, rows in self.iter_pages("/market", _market_params(status)):
            yield rows

    def list_markets(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every market (all pages), API order; a market repeated by a page shift is kept once.

        Only a valid id (an integer) identifies a repeat: rows whose ``marketId`` is missing or
        malformed (two rows may carry the same bad value) all go on to validation, which
        rejects them one by one, naming each.

        Pages after the first are read PAGE_READERS at a time when there are enough of them:
        one page at a time, 60-120 ms of latency per answer held a 2,000-market sweep near
        9 req/s, well under the key's pacing (BENCHMARKS.md). If ``total`` moved while they
        were read (a market created or removed mid-sweep), the list is read again page by
        page, whose page-shift handling then applies.
        """
        pages = self._market_pages_concurrently(status)
        seen: set[Any] = set()
        out: list[dict[str, Any]] = []
        for rows in pages if pages is not None else self.iter_market_pages(status):
            for row in rows:
                market_id = row.get("marketId")
                if isinstance(market_id, int) and not isinstance(market_id, bool):
                    if market_id in seen:
                        self._stats.add("shift_duplicates_dropped")
                        continue
                    seen.add(market_id)
                out.append(row)
        return out

    def _market_pages_concurrently(self, status: str | None) -> list[list[dict[str, Any]]] | None:
        """All pages, or None when the list moved and must be walked page by page again."""
        extra = _market_params(status)
        pages = read_pages_concurrently(
            lambda page: self._read_page("/market", page, extra),
            page_limit=PAGE_LIMIT,
            readers=PAGE_READERS,
            max_pages=MAX_PAGES,
        )
        if pages is None:
            self._stats.add("restarts")
        return pages

    def get_market(self, market_id: int) -> dict[str, Any]:
        """One market's ``data`` dict (binary or categorical parent without children)."""
        return self._data(f"/market/{int(market_id)}")

    def get_categorical_market(self, market_id: int) -> dict[str, Any]:
        """A categorical market's ``data`` dict with ``childMarkets`` filled."""
        return self._data(f"/market/categorical/{int(market_id)}")

    def _data(self, path: str) -> dict[str, Any]:
        result = self._get(path)
        data = result.get("data") if isinstance(result, dict) else None
        if not isinstance(data, dict):
            route = describe_route(self._url(path))
            raise errors.OpinionPayloadError(f"{route} returned no result.data object", route=route)
        return data

    # -- wallets --------------------------------------------------------------------------------
    def fetch_wallet_trades(
        self,
        wallet: str,
        *,
        watermark: int | None = None,
        max_pages: int | None = None,
        on_page: Callable[[int, int | None, list[dict[str, Any]]], None] | None = None,
    ) -> WalletTrades:
        """A wallet's filled trades, newest first (see ``paging.walk_wallet_trades``).

        ``watermark`` (Unix seconds of the newest stored trade): stop after the first page
        reaching strictly older trades; trades *at* the watermark are returned (equal
        timestamps are distinct trades). None reads the full history. ``on_page(page, total,
        rows)`` is called after each page read (progress, tests).
        """
        wallet = _check_wallet(wallet)
        if watermark is not None and watermark > 10**11:
            raise errors.OpinionConfigError(
                f"watermark {watermark} looks like milliseconds; the API uses Unix seconds"
            )
        path = f"/trade/user/{wallet}"

        def read(page: int) -> tuple[int | None, list[dict[str, Any]]]:
            total, rows = self._read_page(path, page)
            if on_page is not None:
                on_page(page, total, rows)
            return total, rows

        result = walk_wallet_trades(
            wallet, read, page_limit=PAGE_LIMIT, watermark=watermark, max_pages=max_pages
        )
        self._stats.add("shift_duplicates_dropped", result.shift_duplicates_dropped)
        self._stats.add("restarts", result.restarts)
        return result

    def list_wallet_positions(self, wallet: str) -> list[dict[str, Any]]:
        """A wallet's open positions (all pages, API order: largest first)."""
        wallet = _check_wallet(wallet)
        return [row for _t, rows in self.iter_pages(f"/positions/user/{wallet}") for row in rows]


def _market_params(status: str | None) -> dict[str, Any]:
    """The market list's filters: every type (marketType=2), optionally one status."""
    if status not in MARKET_STATUSES:
        raise errors.OpinionConfigError(f"status must be one of {MARKET_STATUSES}, got {status!r}")
    extra: dict[str, Any] = {"marketType": 2}
    if status is not None:
        extra["status"] = status
    return extra


def _check_wallet(wallet: str) -> str:
    """Addresses go into the URL path, so only a 0x + 40 hex string is accepted."""
    if not isinstance(wallet, str) or not _WALLET_RE.fullmatch(wallet.strip()):
        raise errors.OpinionConfigError(f"not a wallet address (0x + 40 hex digits): {wallet!r}")
    return wallet.strip()
