"""Whale discovery: what each source showed (sightings) and one row per candidate address.

``candidate_sightings`` keeps, per address, source and board, the latest sighting as sent; the
``whale_candidates`` row of an address is derived from all its sightings at every discovery run
and carries the admission gate's decision. The payload specs below (not stored) give the pandera
schemas of the UNOFFICIAL routes' rows and of the registry file's rows.
"""

import math

import pandera.pandas as pa

from opinion_pipeline.tables import MONEY, TIMESTAMP, Column, RowLimits, Source, Table
from opinion_pipeline.validation.checks import (
    ADDRESS_PATTERN,
    fits_decimal_38_18,
    int_check,
    is_decimal_string,
    is_int,
    string_check,
)

_UTC = "(UTC)"
_ADDRESS = string_check(ADDRESS_PATTERN, name="0x + 40 hex digits")


def _ranking_value(value: object) -> bool:
    """A decimal string, or the live quirks "" (and "0", a decimal) kept as unknown."""
    return value == "" or (is_decimal_string(value) and fits_decimal_38_18(value))  # type: ignore[arg-type]


def _json_number(value: object) -> bool:
    """The holders route sends JSON numbers (not strings): finite, >= 0, storable."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and 0 <= value < 10**20


def _signed_json_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and abs(value) < 10**20


def _id_text(value: object) -> bool:
    """xUserId: digits, sent as a string (or, seen in other clients, an integer)."""
    return is_int(value) or (isinstance(value, str) and value.isdigit())


RANKING_VALUE = pa.Check(_ranking_value, element_wise=True, name='a decimal string or "" (unknown)')
HOLDING_NUMBER = pa.Check(_json_number, element_wise=True, name="a JSON number >= 0")
PROFIT_NUMBER = pa.Check(_signed_json_number, element_wise=True, name="a JSON number")
ID_TEXT = pa.Check(_id_text, element_wise=True, name="digits (string or integer)")


def _extra(name: str, field: str, check: pa.Check, what: str) -> Column:
    """A documented extra field (§3.6, §3.7): checked when sent, never stored; may be absent."""
    return Column(name, "VARCHAR", f"{field}: {what} (checked, not stored).",
                  source=Source(field, check, nullable=True))  # fmt: skip


# The fields §3.6 and §3.7 document beyond the ones discovery uses. A row that sends one of them
# with the wrong type is quarantined naming the field: a changed route shows up as rejects with
# the field named, not as silently wrong sightings. Undocumented fields are ignored (§3.1).
LEADERBOARD_EXTRAS = (
    _extra("id", "id", int_check(minimum=0), "an integer"),
    _extra("ranking_change", "rankingChange", int_check(), "an integer (places gained)"),
    _extra("ranking_type", "rankingType", int_check(minimum=0), "an integer"),
    _extra("avatar", "avatar", string_check(), 'a URL or ""'),
    _extra("x_username", "xUsername", string_check(), "a string"),
    _extra("x_user_id", "xUserId", ID_TEXT, "digits"),
)
HOLDER_EXTRAS = (
    _extra("profit", "profit", PROFIT_NUMBER, "a JSON number"),
    _extra("avatar", "avatar", string_check(), 'a URL or ""'),
)

LEADERBOARD_ENTRY = Table(
    name="leaderboard_entry", payload="LeaderboardEntry", stored=False,
    description="A row of the UNOFFICIAL leaderboard route, as validated before use.",
    columns=(
        Column("address", "VARCHAR", "walletAddress.", source=Source("walletAddress", _ADDRESS)),
        Column("ranking_value_sent", "VARCHAR", "rankingValue as sent.",
               source=Source("rankingValue", RANKING_VALUE)),
        Column("user_name", "VARCHAR", "userName.",
               source=Source("userName", string_check(), nullable=True)),
        *LEADERBOARD_EXTRAS,
    ),
)  # fmt: skip

HOLDER_ENTRY = Table(
    name="holder_entry", payload="MarketHolder", stored=False,
    description="A row of the UNOFFICIAL market-holders route, as validated before use.",
    columns=(
        Column("address", "VARCHAR", "walletAddress.", source=Source("walletAddress", _ADDRESS)),
        Column("holding_shares", MONEY, "sharesAmount (a JSON number).",
               source=Source("sharesAmount", HOLDING_NUMBER)),
        Column("user_name", "VARCHAR", "userName.",
               source=Source("userName", string_check(), nullable=True)),
        *HOLDER_EXTRAS,
    ),
)  # fmt: skip

REGISTRY_ENTRY = Table(
    name="registry_entry", payload="RegistryLine", stored=False,
    description="A line of the user's registry file, as a discovery source.",
    columns=(
        Column("address", "VARCHAR", "address.", source=Source("address", _ADDRESS)),
        Column("user_name", "VARCHAR", "label.", source=Source("label", string_check())),
    ),
)  # fmt: skip

CANDIDATE_SIGHTINGS = Table(
    name="candidate_sightings",
    row_limits=RowLimits(warn=2_000_000, error=10_000_000),
    description="The latest sighting of an address per discovery source and board, as sent.",
    key=("address", "source", "board"),
    columns=(
        Column("address", "VARCHAR", "Wallet address, lowercase 0x + 40 hex.", nullable=False,
               derived=True),
        Column("source", "VARCHAR", "leaderboard, holders or registry.", nullable=False,
               derived=True),
        Column("board", "VARCHAR",
               "leaderboard: dataType:period (volume:30); holders: market:<id>:yes|no; "
               "registry: file.", nullable=False, derived=True),
        Column("rank", "INTEGER", "1-based position in the list; NULL for the registry.",
               derived=True),
        Column("ranking_value_sent", "VARCHAR",
               'rankingValue exactly as sent ("" and "0" included).', derived=True),
        Column("ranking_value", MONEY,
               'rankingValue as a number; NULL when sent as "" or "0" (unknown, not zero).',
               derived=True),
        Column("holding_usd", MONEY,
               "Holders: sharesAmount, i.e. the position's face value in USD (a share pays at "
               "most 1 USDT).", derived=True),
        Column("user_name", "VARCHAR", "userName (or the registry label) as sent.", derived=True),
        Column("first_seen_at", TIMESTAMP, f"First sighting on this board {_UTC}.",
               nullable=False),
        Column("last_seen_at", TIMESTAMP, f"Latest sighting on this board {_UTC}.",
               nullable=False),
        Column("run_id", "VARCHAR", "Dagster run of the latest sighting."),
    ),
)  # fmt: skip

WHALE_CANDIDATES = Table(
    name="whale_candidates",
    row_limits=RowLimits(warn=200_000, error=2_000_000),
    description="One row per discovered or listed address, with the admission gate's decision.",
    key=("address",),
    columns=(
        Column("address", "VARCHAR", "Wallet address (natural key).", nullable=False,
               derived=True),
        Column("sources", "VARCHAR[]", "Sources that showed it: leaderboard, holders, registry.",
               nullable=False, derived=True),
        Column("boards", "VARCHAR[]", "Every board it was seen on (see candidate_sightings).",
               nullable=False, derived=True),
        Column("best_rank", "INTEGER", "Its best leaderboard rank on any board; NULL if none.",
               derived=True),
        Column("best_board", "VARCHAR", "The board of best_rank.", derived=True),
        Column("ranking_values", "VARCHAR",
               'JSON {board: rankingValue as sent}; "" and "0" mean unknown, not zero.',
               derived=True),
        Column("holding_usd", MONEY, "Largest holding seen (face value in USD); NULL if none.",
               derived=True),
        Column("holdings", "VARCHAR", "JSON {market:<id>:<side>: face value USD} of holdings seen.",
               derived=True),
        Column("first_seen_at", TIMESTAMP, f"First sighting by any source {_UTC}.",
               nullable=False, derived=True),
        Column("last_seen_at", TIMESTAMP, f"Latest sighting by any source {_UTC}.",
               nullable=False, derived=True),
        Column("admitted", "BOOLEAN", "Whether the gate admits it into the tracked universe.",
               nullable=False, derived=True),
        Column("rule", "VARCHAR", "The rule that admitted or rejected it.", nullable=False,
               derived=True),
        Column("priority", "INTEGER",
               "Its place in the gate's deterministic order (1 = first), for the cap.",
               derived=True),
        Column("no_trades_seen", "BOOLEAN",
               "Tracked, polled, no trade returned although a source reports volume or a "
               "holding (likely a Safe proxy address: see the README).", nullable=False,
               derived=True),
        Column("decided_at", TIMESTAMP, f"When the gate last decided {_UTC}.", nullable=False),
    ),
)  # fmt: skip
