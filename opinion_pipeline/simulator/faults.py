"""Fault settings and how they are applied to API responses.

Faults reproduce what a client meets against the real service (slow answers, 5xx, 429 bursts,
dropped or truncated connections, malformed rows, HTTP 200 with errno != 0, the docs' other
envelope, mixed-case sides, usdAmount scaled by 10^18, ``null`` lists) so the pipeline's handling
of each can be tested. Every random choice comes from one RNG seeded from the world seed.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal
from typing import Any

from opinion_pipeline.simulator.util import EXACT, dec_str

ENVELOPES = ("errno", "code", "alternate")
SIDE_CASES = ("upper", "title", "mixed")
UNOFFICIAL_STATES = ("up", "gone", "html")  # the web-app routes: served, 404, an HTML page
RATES = (
    "error_rate", "drop_rate", "truncate_rate", "malformed_rate", "errno_rate", "safe_proxy_rate",
)  # fmt: skip
ERROR_STATUSES = (500, 502, 503)
USD_SCALE = Decimal(10) ** 18


class FaultSettingsError(ValueError):
    """A fault update names an unknown field or an invalid value (HTTP 400 on /_sim/faults)."""


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: float = 0.0  # fixed delay added to every API response
    latency_jitter_ms: float = 0.0  # plus a uniform extra delay in [0, jitter]
    error_rate: float = 0.0  # fraction answered 500/502/503
    burst_429: int = 0  # the next N requests get 429 (counts down)
    drop_rate: float = 0.0  # fraction closed without any response
    truncate_rate: float = 0.0  # fraction whose body is cut short (Content-Length is full)
    malformed_rate: float = 0.0  # fraction of list rows corrupted
    errno_rate: float = 0.0  # fraction answered HTTP 200 with errno 10000
    envelope: str = "errno"  # errno | code | alternate
    side_case: str = "upper"  # upper (BUY) | title (Buy) | mixed (either, per row)
    usd_amount_scaled: bool = False  # usdAmount x 10^18
    null_empty_list: bool = False  # an empty list comes back as null
    refuse_region: bool = False  # every API request: HTTP 200, errno 10403 "Invalid area"
    unofficial_routes: str = "up"  # up | gone (leaderboard and holders answer 404) | html
    safe_proxy_rate: float = 0.0  # share of ordinary traders the web-app routes show by their
    # Safe proxy address, whose trades route returns nothing (simulator/proxies.py)

    def with_update(self, update: dict[str, Any]) -> FaultSettings:
        """A copy with ``update`` merged in; ``{"reset": true}`` starts from the defaults."""
        if not isinstance(update, dict):
            raise FaultSettingsError("faults must be a JSON object")
        base = FaultSettings() if update.get("reset") is True else self
        changes = {}
        known = {item.name: item for item in fields(FaultSettings)}
        for name, value in update.items():
            if name == "reset":
                continue
            if name not in known:
                raise FaultSettingsError(f"unknown fault field {name!r}")
            changes[name] = _checked(name, value, known[name].default)
        return replace(base, **changes)


def _checked(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise FaultSettingsError(f"{name} must be true or false")
        return value
    if isinstance(default, str):
        allowed = {"envelope": ENVELOPES, "unofficial_routes": UNOFFICIAL_STATES}.get(
            name, SIDE_CASES
        )
        if value not in allowed:
            raise FaultSettingsError(f"{name} must be one of {', '.join(allowed)}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise FaultSettingsError(f"{name} must be a number >= 0")
    if isinstance(default, int):
        if int(value) != value:
            raise FaultSettingsError(f"{name} must be a whole number")
        return int(value)
    if name in RATES and value > 1:
        raise FaultSettingsError(f"{name} must be between 0 and 1")
    return float(value)


@dataclass(frozen=True)
class Plan:
    """What the faults decided for one request, drawn up front under the lock."""

    delay: float
    drop: bool
    error_status: int | None
    errno: bool
    truncate: bool
    settings: FaultSettings


Rows = list[Any]
Corruption = Callable[[dict[str, Any]], None]


def _set(field: str, value: Any) -> Corruption:
    def corrupt(row: dict[str, Any]) -> None:
        row[field] = value

    return corrupt


def _drop(field: str) -> Corruption:
    def corrupt(row: dict[str, Any]) -> None:
        row.pop(field, None)

    return corrupt


def _negate(field: str) -> Corruption:
    def corrupt(row: dict[str, Any]) -> None:
        value = Decimal(str(row.get(field) or "0"))
        row[field] = dec_str(-abs(value) if value else Decimal(-1))

    return corrupt


CORRUPTIONS: dict[str, tuple[Corruption, ...]] = {
    "trade": (
        _set("marketId", "abc"), _set("createdAt", "yesterday"), _drop("amount"),
        _drop("createdAt"), _drop("txHash"), _negate("amount"), _negate("shares"),
        _set("txHash", "0x123"), _set("quoteToken", "not-an-address"),
    ),
    "market": (
        _set("marketId", "abc"), _set("createdAt", "yesterday"), _drop("marketId"),
        _drop("createdAt"), _negate("volume"), _set("quoteToken", "not-an-address"),
        _set("yesTokenId", "0x123"),
    ),
    "position": (
        _set("marketId", "abc"), _drop("sharesOwned"), _negate("sharesOwned"),
        _set("tokenId", "0x123"), _set("quoteToken", "not-an-address"),
    ),
    "leaderboard": (
        _set("walletAddress", "0x123"), _drop("walletAddress"), _negate("rankingValue"),
        _set("rankingValue", 12.5), _set("rankingValue", "lots"), _set("rankingChange", "up"),
        _set("id", "x1"), _set("xUserId", "@someone"),
    ),
    "holder": (
        _set("walletAddress", "0x123"), _drop("walletAddress"), _set("sharesAmount", "lots"),
        _set("sharesAmount", -5.0), _set("profit", "lots"),
    ),
}  # fmt: skip


class Faults:
    """The live fault settings plus the seeded RNG that applies them (thread-safe)."""

    def __init__(self, seed: int, initial: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(f"{seed}:faults")
        self._settings = FaultSettings().with_update(initial or {})
        self._responses = 0

    def get(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self._settings)

    def update(self, update: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._settings = self._settings.with_update(update)
            return asdict(self._settings)

    def take_burst(self) -> bool:
        """True (and one fewer left) while a 429 burst is running."""
        with self._lock:
            if self._settings.burst_429 <= 0:
                return False
            self._settings = replace(self._settings, burst_429=self._settings.burst_429 - 1)
            return True

    def plan(self) -> Plan:
        with self._lock:
            s, rng = self._settings, self._rng
            jitter = rng.uniform(0, s.latency_jitter_ms) if s.latency_jitter_ms else 0.0
            failing = bool(s.error_rate) and rng.random() < s.error_rate
            error = rng.choice(ERROR_STATUSES) if failing else None
            return Plan(
                delay=(s.latency_ms + jitter) / 1000.0,
                drop=bool(s.drop_rate) and rng.random() < s.drop_rate,
                error_status=error,
                errno=bool(s.errno_rate) and rng.random() < s.errno_rate,
                truncate=bool(s.truncate_rate) and rng.random() < s.truncate_rate,
                settings=s,
            )

    def envelope_style(self) -> str:
        """errno or code for the next response ("alternate" switches every response)."""
        with self._lock:
            style = self._settings.envelope
            if style == "alternate":
                self._responses += 1
                return "errno" if self._responses % 2 else "code"
            return style

    def corrupt(self, rows: Rows, kind: str, rate: float) -> int:
        """Corrupt about ``rate`` of ``rows`` in place, each in one way; returns how many."""
        if not rate or kind not in CORRUPTIONS:
            return 0
        ways = CORRUPTIONS[kind]
        count = 0
        with self._lock:
            for row in rows:
                if isinstance(row, dict) and self._rng.random() < rate:
                    self._rng.choice(ways)(row)
                    count += 1
        return count

    def shape_trades(self, rows: Rows, settings: FaultSettings) -> None:
        """Apply side_case and usd_amount_scaled to trade rows in place."""
        with self._lock:
            for row in rows:
                side = row.get("side")
                if isinstance(side, str) and settings.side_case != "upper":
                    title = settings.side_case == "title" or self._rng.random() < 0.5
                    row["side"] = side.title() if title else side.upper()
                usd = row.get("usdAmount")
                if settings.usd_amount_scaled and isinstance(usd, str):
                    row["usdAmount"] = dec_str(EXACT.multiply(Decimal(usd), USD_SCALE))


def envelope(style: str, errno: int, message: str, result: Any) -> dict[str, Any]:
    """The response body in the live (errno/errmsg) or the docs' (code/msg) form."""
    if style == "code":
        return {"code": errno, "msg": message, "result": result}
    return {"errno": errno, "errmsg": message, "result": result}
