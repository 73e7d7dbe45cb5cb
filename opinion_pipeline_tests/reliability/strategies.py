"""hypothesis strategies for API payloads: valid rows, rows with hostile fields, non-rows.

Rows start valid (so the valid path is exercised as much as the reject path) and then get a
few fields replaced by arbitrary JSON, deleted, or set to edge values (huge integers, decimals
with too many digits, exponents), the kinds of corruption a client meets for real.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

USDT = "0x55d398326f99059fF775485246999027B3197955"
TRADE_FIELDS = (
    "txHash", "marketId", "rootMarketId", "marketTitle", "side", "outcome", "outcomeSide",
    "price", "shares", "amount", "fee", "profit", "quoteToken", "quoteTokenUsdPrice",
    "usdAmount", "status", "chainId", "createdAt",
)  # fmt: skip
MARKET_FIELDS = (
    "marketId", "marketTitle", "status", "statusEnum", "marketType", "yesTokenId",
    "noTokenId", "volume", "volume24h", "volume7d", "quoteToken", "createdAt", "cutoffAt",
    "resolvedAt", "childMarkets", "labels", "slug",
)  # fmt: skip

# Lone surrogates: valid JSON ("\\ud800"), but not text DuckDB can store.
surrogates = st.sampled_from(["\ud800", "title \udfff", "\ud83d cut emoji"])
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | surrogates,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def decimal_text(int_digits: int, frac_digits: int, negative: bool = False) -> st.SearchStrategy:
    """Decimal strings with up to ``int_digits`` + ``frac_digits`` digits."""
    whole = st.integers(min_value=0, max_value=10**int_digits - 1)
    frac = st.integers(min_value=0, max_value=10**frac_digits - 1) if frac_digits else st.just(0)
    places = st.integers(min_value=0, max_value=frac_digits)

    def build(w: int, f: int, p: int, minus: bool) -> str:
        text = str(w) if not p else f"{w}.{str(f % 10**p).zfill(p)}"
        return f"-{text}" if minus and negative else text

    return st.builds(build, whole, frac, places, st.booleans())


# Money the warehouse can hold: DECIMAL(38,18) is 20 integer digits and 18 decimals.
storable_money = decimal_text(14, 18)
storable_price = st.one_of(decimal_text(0, 18), st.just("1"), st.just("1.000"))
edge_decimals = st.one_of(
    decimal_text(25, 25, negative=True),  # too many digits either side
    st.sampled_from(["1e5", "1E-7", ".5", "5.", "+1", " 1", "1 ", "0x10", "NaN", "Infinity", ""]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
edge_ints = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**63 - 1, 2**63, 10**11, 10**13, 1_700_000_000_000]),
)
edges = st.one_of(json_values, edge_decimals, edge_ints)


@st.composite
def valid_trade(draw: Any) -> dict[str, Any]:
    market = draw(st.integers(min_value=1, max_value=2**40))
    side = draw(st.sampled_from(["BUY", "SELL", "MERGE", "Buy", "sell", "Merge", "SPLIT"]))
    return {
        "txHash": "0x" + draw(st.text("0123456789abcdefABCDEF", min_size=64, max_size=64)),
        "marketId": market,
        "rootMarketId": draw(st.one_of(st.none(), st.just(market))),
        "marketTitle": draw(st.one_of(st.none(), st.text(max_size=30))),
        "side": side,
        "outcome": draw(st.one_of(st.none(), st.text(max_size=8))),
        "outcomeSide": draw(st.sampled_from([1, 2])),
        "price": draw(storable_price),
        "shares": draw(storable_money),
        "amount": draw(storable_money),
        "fee": draw(st.one_of(st.none(), storable_money)),
        "profit": draw(st.one_of(st.none(), decimal_text(14, 18, negative=True))),
        "quoteToken": USDT,
        "quoteTokenUsdPrice": draw(st.sampled_from(["1", "0.9998", "1.0001", "0.999912345678"])),
        "usdAmount": draw(st.one_of(st.none(), storable_money)),
        "status": draw(st.one_of(st.none(), st.sampled_from([2, 3]))),
        "chainId": "56",
        "createdAt": draw(st.integers(min_value=1, max_value=4_000_000_000)),
    }


@st.composite
def mutated(draw: Any, base: st.SearchStrategy, fields: tuple[str, ...]) -> Any:
    """A row from ``base`` with 0-3 fields replaced, deleted or set to edge values."""
    if draw(st.integers(min_value=0, max_value=19)) == 0:
        return draw(json_values)  # not a row at all
    row = dict(draw(base))
    for field in draw(st.lists(st.sampled_from(fields), max_size=3, unique=True)):
        action = draw(st.sampled_from(["replace", "delete", "edge"]))
        if action == "delete":
            row.pop(field, None)
        else:
            row[field] = draw(json_values if action == "replace" else edges)
    return row


def trade_rows(max_size: int = 8) -> st.SearchStrategy:
    return st.lists(mutated(valid_trade(), TRADE_FIELDS), max_size=max_size)


@st.composite
def valid_market(draw: Any, with_children: bool = True) -> dict[str, Any]:
    market_type = draw(st.sampled_from([0, 1])) if with_children else 0
    row = {
        "marketId": draw(st.integers(min_value=1, max_value=2**40)),
        "marketTitle": draw(st.text(max_size=30)),
        "status": draw(st.integers(min_value=1, max_value=6)),
        "statusEnum": draw(st.one_of(st.none(), st.text(max_size=8))),
        "marketType": market_type,
        "yesTokenId": draw(st.text("0123456789", max_size=78)),
        "noTokenId": draw(st.text("0123456789", max_size=78)),
        "volume": draw(st.one_of(st.none(), storable_money)),
        "volume24h": draw(st.one_of(st.none(), storable_money)),
        "volume7d": draw(st.one_of(st.none(), storable_money)),
        "quoteToken": USDT,
        "chainId": "56",
        "createdAt": draw(st.integers(min_value=0, max_value=4_000_000_000)),
        "cutoffAt": draw(st.one_of(st.none(), st.integers(min_value=0, max_value=4_000_000_000))),
        "resolvedAt": draw(st.integers(min_value=0, max_value=4_000_000_000)),
        "labels": draw(st.one_of(st.none(), st.lists(st.text(max_size=5), max_size=2))),
    }
    if market_type == 1:
        children = draw(st.lists(valid_market(with_children=False), max_size=2))
        row["childMarkets"] = [
            {k: v for k, v in child.items() if k != "marketType"} for child in children
        ]
    return row


def market_rows(max_size: int = 5) -> st.SearchStrategy:
    return st.lists(mutated(valid_market(), MARKET_FIELDS), max_size=max_size)
