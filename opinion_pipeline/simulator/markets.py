"""The simulated markets: a fixed catalogue whose state is a function of simulated time.

Each market gets an *archetype* (its timeline relative to the start instant) so that every
status 1..6 is present at start and more change as time passes: markets created later appear,
markets whose cutoff passes go Activated -> Resolving -> Resolved. Nothing is stored per
request; status, volumes and prices are recomputed from the timeline and the clock.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from opinion_pipeline.simulator.util import (
    CHAIN_ID,
    USDT_BSC,
    digest,
    hex_id,
    scaled,
    seeded_rng,
    token_id,
)

MINUTE, HOUR, DAY = 60, 3600, 86400
STATUS_ENUM = {
    1: "Created", 2: "Activated", 3: "Resolving", 4: "Resolved", 5: "Failed", 6: "Deleted",
}  # fmt: skip
NEVER = 2**62  # "no end" for interval arithmetic

# Forced first archetypes guarantee coverage of every status and of timeline changes.
FORCED = (
    "evergreen", "evergreen_cat", "created", "resolving", "resolved", "failed", "deleted",
    "soon", "future", "old", "soon_cat", "future",
)  # fmt: skip
WEIGHTED = (
    ("active", 45), ("resolved", 18), ("soon", 8), ("future", 10), ("old", 10),
    ("created", 3), ("resolving", 2), ("failed", 2), ("deleted", 2),
)  # fmt: skip
ASSETS = ("BTC", "ETH", "BNB", "SOL", "XRP", "DOGE")
TEAMS = ("Lions", "Falcons", "Comets", "Rovers", "Titans", "Pilots", "Dragons", "Wolves")
EVENTS = ("Golden Cup", "Spring Open", "Harbor Derby", "Northern League", "Summit Classic")
PARTIES = ("Blue Party", "Green Party", "Red Party", "Union List", "Independents")


@dataclass(eq=False)
class Market:
    """A market or a categorical child; children copy their parent's timeline."""

    market_id: int
    title: str
    market_type: int | None  # None on a categorical child
    fate: str  # resolve | fail | delete
    created_at: int
    activate_at: int
    cutoff_at: int  # 0 = unset (never cuts off)
    resolve_delay: int
    deleted_at: int
    rate: int  # volume accrual in 10^-18 quote units per second (sum of children on a parent)
    base_price: int  # YES mid price in thousandths
    wins: bool  # binary: YES wins; child: this option wins
    yes_label: str = ""
    no_label: str = ""
    rules: str = ""
    slug: str = ""
    labels: tuple[str, ...] = ()
    yes_token: str = ""
    no_token: str = ""
    question_id: str = ""
    condition_id: str = ""
    parent: Market | None = None
    children: list[Market] = field(default_factory=list)
    _mids: dict[int, int] = field(default_factory=dict, repr=False)

    @property
    def root(self) -> Market:
        return self.parent or self

    @property
    def trading_end(self) -> int:
        if self.fate == "delete":
            return self.deleted_at
        return self.cutoff_at or NEVER

    def status(self, now: int) -> int:
        if self.fate == "delete" and now >= self.deleted_at:
            return 6
        if now < self.activate_at:
            return 1
        if not self.cutoff_at or now < self.cutoff_at or self.fate == "delete":
            return 2
        if now < self.cutoff_at + self.resolve_delay:
            return 3
        return 5 if self.fate == "fail" else 4

    def tradeable(self, now: int) -> bool:
        return self.activate_at <= now < self.trading_end

    def resolved_at(self, now: int) -> int:
        return self.cutoff_at + self.resolve_delay if self.status(now) == 4 else 0

    def volume_units(self, start: int, end: int) -> int:
        """Volume traded in [start, end), in 10^-18 units."""
        low, high = max(start, self.activate_at), min(end, self.trading_end)
        return self.rate * (high - low) if high > low else 0

    def mid_price(self, side: int, now: int) -> int:
        """Mid price in thousandths of the YES (1) or NO (2) token; 1000/0 once resolved."""
        resolved = self.status(now) == 4
        yes = (1000 if self.wins else 0) if resolved else self._hourly_mid(now // HOUR)
        return yes if side == 1 else 1000 - yes

    def _hourly_mid(self, hour: int) -> int:
        """The YES mid for one hour: base price plus a deterministic wiggle (memoised)."""
        mid = self._mids.get(hour)
        if mid is None:
            wiggle = int(digest("mid", self.market_id, hour)[:6], 16) % 121 - 60
            mid = min(980, max(20, self.base_price + wiggle))
            if len(self._mids) > 200_000:
                self._mids.clear()
            self._mids[hour] = mid
        return mid

    def leaves(self) -> list[Market]:
        """The markets trades happen on: the children of a categorical, else itself."""
        return self.children or [self]


def _timeline(kind: str, start: int, rng: random.Random) -> tuple[int, int, int, int, int, str]:
    """(created, activate, cutoff, resolve_delay, deleted_at, fate) for an archetype."""
    r = rng.randint
    fate, deleted, delay = "resolve", 0, r(HOUR, DAY)
    if kind in ("evergreen", "evergreen_cat"):
        created = start - 260 * DAY + r(0, DAY)
        cutoff = 0 if kind == "evergreen" else start + 365 * DAY
        activate = created
    elif kind == "active":
        created = start - r(DAY, 90 * DAY)
        activate, cutoff = created, start + r(7 * DAY, 180 * DAY)
    elif kind == "created":
        created = start - r(HOUR, 3 * DAY)
        activate = start + r(30 * DAY, 60 * DAY)
        cutoff = activate + 30 * DAY
    elif kind == "resolving":
        created = start - r(20 * DAY, 60 * DAY)
        activate, cutoff, delay = created, start - r(HOUR, 6 * HOUR), r(5 * DAY, 10 * DAY)
    elif kind in ("resolved", "failed"):
        created = start - r(20 * DAY, 120 * DAY)
        activate, cutoff = created, start - r(2 * DAY, 15 * DAY)
        fate = "fail" if kind == "failed" else "resolve"
    elif kind == "old":
        created = start - r(230 * DAY, 250 * DAY)
        activate, cutoff, delay = created, start - r(95 * DAY, 120 * DAY), r(HOUR, 2 * DAY)
    elif kind in ("soon", "soon_cat"):
        created = start - r(2 * DAY, 30 * DAY)
        activate, cutoff = created, start + r(10 * MINUTE, 4 * HOUR)
        delay = r(10 * MINUTE, 2 * HOUR)
    elif kind == "future":
        created = start + r(2 * MINUTE, 8 * HOUR)
        activate, cutoff = created, created + r(3 * DAY, 30 * DAY)
    elif kind == "deleted":
        created = start - r(5 * DAY, 30 * DAY)
        activate, cutoff, fate = created, created + 60 * DAY, "delete"
        deleted = created + r(HOUR, 2 * DAY)
    else:  # pragma: no cover - programming error
        raise ValueError(kind)
    return created, activate, cutoff, delay, deleted, fate


def _day(epoch: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def _binary_text(r: random.Random, when: int) -> tuple[str, tuple[str, ...], str]:
    theme = r.randrange(3)
    if theme == 0:
        asset = r.choice(ASSETS)
        level = r.randint(2, 150) * 1000
        title = f"Will {asset} close above ${level:,} on {_day(when)}?"
        return title, ("Crypto", asset), f"Resolves YES if the {asset}/USDT close is above {level}."
    if theme == 1:
        team, event = r.choice(TEAMS), r.choice(EVENTS)
        return f"Will the {team} win the {event}?", ("Sports",), f"Resolves YES if the {team} win."
    title = f"Will the central bank cut rates by {_day(when)}?"
    return title, ("Macro", "Rates"), "Resolves YES on an announced cut before the cutoff."


def _categorical_text(r: random.Random, when: int) -> tuple[str, tuple[str, ...], list[str]]:
    count = r.randint(2, 5)
    theme = r.randrange(3)
    if theme == 0:
        names = r.sample(TEAMS, count)
        return f"Who will win the {r.choice(EVENTS)}?", ("Sports",), names
    if theme == 1:
        names = r.sample(PARTIES, count)
        return f"Which list wins the most seats ({_day(when)})?", ("Politics",), names
    asset = r.choice(ASSETS)
    names = [f"Band {index + 1}" for index in range(count)]
    return f"Where will {asset} trade on {_day(when)}?", ("Crypto", asset), names


def _slug(title: str, market_id: int) -> str:
    words = "".join(ch.lower() if ch.isalnum() else " " for ch in title).split()
    return "-".join([*words[:8], str(market_id)])


def _build_one(seed: int, index: int, start: int) -> Market:
    rng = seeded_rng(seed, "market", index)
    if index < len(FORCED):
        kind = FORCED[index]
    else:
        kinds, weights = zip(*WEIGHTED, strict=True)
        kind = rng.choices(kinds, weights)[0]
    categorical = kind.endswith("_cat") or (kind not in FORCED[:2] and rng.random() < 0.3)
    created, activate, cutoff, delay, deleted, fate = _timeline(kind, start, rng)
    base = Market(
        market_id=0, title="", market_type=1 if categorical else 0, fate=fate,
        created_at=created, activate_at=activate, cutoff_at=cutoff, resolve_delay=delay,
        deleted_at=deleted, rate=0, base_price=rng.randint(80, 920), wins=rng.random() < 0.5,
    )  # fmt: skip
    when = cutoff or created + 400 * DAY
    if not categorical:
        base.title, base.labels, base.rules = _binary_text(rng, when)
        base.yes_label, base.no_label = "YES", "NO"
        base.rate = rng.randint(10**15, 5 * 10**18)
        return base
    base.title, base.labels, names = _categorical_text(rng, when)
    winner = rng.randrange(len(names))
    for position, name in enumerate(names):
        child = Market(
            market_id=0, title=name, market_type=None, fate=fate, created_at=created,
            activate_at=activate, cutoff_at=cutoff, resolve_delay=delay, deleted_at=deleted,
            rate=rng.randint(10**14, 2 * 10**18), base_price=rng.randint(40, 700),
            wins=position == winner, yes_label=name, no_label="NO",
            rules=f"Resolves YES if {name} is the outcome of: {base.title}", parent=base,
        )  # fmt: skip
        base.children.append(child)
    base.rate = sum(child.rate for child in base.children)
    return base


def build_markets(seed: int, count: int, start: int) -> list[Market]:
    """The top-level markets, ids ascending with creation time (children numbered after)."""
    markets = [_build_one(seed, index, start) for index in range(count)]
    markets.sort(key=lambda market: (market.created_at, market.title))
    next_id = 1001
    for market in markets:
        for node in [market, *market.children]:
            node.market_id = next_id
            next_id += 1
            if node.market_type == 0 or node.parent is not None:
                node.yes_token = token_id(seed, "yes", node.market_id)
                node.no_token = token_id(seed, "no", node.market_id)
            node.question_id = hex_id(64, seed, "question", node.market_id)
            node.condition_id = hex_id(64, seed, "condition", node.market_id)
        market.slug = _slug(market.title, market.market_id)
    return markets


def _volumes(market: Market, now: int) -> tuple[str, str, str]:
    def text(units: int) -> str:
        return format(scaled(units, 18), "f")

    return (
        text(market.volume_units(-NEVER, now + 1)),
        text(market.volume_units(now + 1 - DAY, now + 1)),
        text(market.volume_units(now + 1 - 7 * DAY, now + 1)),
    )


def result_token(market: Market, now: int) -> str:
    if market.status(now) != 4 or market.market_type == 1:
        return ""
    return market.yes_token if market.wins else market.no_token


def child_data(child: Market, now: int, *, condition_id: bool = False) -> dict[str, object]:
    """A childMarkets entry: MarketData minus marketType/childMarkets/24h/7d/incentiveFactor."""
    status = child.status(now)
    return {
        "marketId": child.market_id, "marketTitle": child.title, "status": status,
        "statusEnum": STATUS_ENUM[status], "yesLabel": child.yes_label,
        "noLabel": child.no_label, "rules": child.rules, "yesTokenId": child.yes_token,
        "noTokenId": child.no_token,
        "conditionId": child.condition_id if condition_id else "",
        "resultTokenId": result_token(child, now), "questionId": child.question_id,
        "volume": _volumes(child, now)[0], "quoteToken": USDT_BSC, "chainId": CHAIN_ID,
        "createdAt": child.created_at, "cutoffAt": child.cutoff_at,
        "resolvedAt": child.resolved_at(now),
    }  # fmt: skip


def market_data(
    market: Market, now: int, *, children: bool = True, condition_id: bool = False
) -> dict[str, object]:
    """MarketData as the API shows it at ``now`` (listings hide conditionId as "")."""
    status = market.status(now)
    volume, volume24h, volume7d = _volumes(market, now)
    is_categorical = market.market_type == 1
    child_list = None
    if is_categorical and children:
        child_list = [child_data(kid, now, condition_id=condition_id) for kid in market.children]
    return {
        "marketId": market.market_id, "marketTitle": market.title, "status": status,
        "statusEnum": STATUS_ENUM[status], "marketType": market.market_type or 0,
        "childMarkets": child_list, "yesLabel": market.yes_label, "noLabel": market.no_label,
        "rules": market.rules, "yesTokenId": market.yes_token, "noTokenId": market.no_token,
        "conditionId": market.condition_id if condition_id and not is_categorical else "",
        "resultTokenId": result_token(market, now),
        "questionId": "" if is_categorical else market.question_id,
        "volume": volume, "volume24h": volume24h, "volume7d": volume7d,
        "quoteToken": USDT_BSC, "chainId": CHAIN_ID, "incentiveFactor": {},
        "createdAt": market.created_at, "cutoffAt": market.cutoff_at,
        "resolvedAt": market.resolved_at(now), "slug": market.slug, "labels": list(market.labels),
    }  # fmt: skip


def leaf_as_market(child: Market, now: int) -> dict[str, object]:
    """A categorical child asked for by its own id on /market/{id}: full MarketData shape."""
    data = child_data(child, now, condition_id=True)
    _, volume24h, volume7d = _volumes(child, now)
    return {
        **data, "marketType": 0, "childMarkets": None, "volume24h": volume24h,
        "volume7d": volume7d, "incentiveFactor": {}, "slug": _slug(child.title, child.market_id),
        "labels": list(child.root.labels),
    }  # fmt: skip
