"""Element checks shared by the pandera schemas.

API rows arrive as JSON, so a column may hold an int in one row and a string in the next. The
schemas therefore run on object columns and check each value's JSON type and form here, rather
than letting pandas coerce (which would turn ``"abc"`` into NaN, or ints into floats).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import pandera.pandas as pa

DECIMAL_PATTERN = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
# What the warehouse can hold, so a valid row can never make an insert fail (and so block every
# later sync with it): DECIMAL(38,18) has 20 integer digits and 18 decimals; ids are BIGINT.
MAX_INTEGER_DIGITS = 20
MAX_DECIMALS = 18
BIGINT_MAX = 2**63 - 1
ADDRESS_PATTERN = re.compile(r"^0x[0-9a-fA-F]{40}$")
TX_HASH_PATTERN = re.compile(r"^0x[0-9a-fA-F]{64}$")
TOKEN_ID_PATTERN = re.compile(r"^[0-9]*$")
# Unix seconds up to the year 5138: anything larger is milliseconds or garbage (and far enough
# out, a timestamp DuckDB cannot hold).
UNIX_SECONDS_MAX = 99_999_999_999


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_decimal_string(value: object) -> bool:
    return isinstance(value, str) and DECIMAL_PATTERN.match(value) is not None


def fits_decimal_38_18(value: str) -> bool:
    """A decimal string DECIMAL(38,18) stores exactly (no rounding, no overflow)."""
    whole, _, fraction = value.lstrip("-").partition(".")
    return len(whole.lstrip("0")) <= MAX_INTEGER_DIGITS and len(fraction) <= MAX_DECIMALS


def is_utf8(text: str) -> bool:
    """False for text with lone surrogates (JSON "\\ud800"), which DuckDB cannot store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def to_decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - guarded by is_decimal_string
        raise ValueError(f"not a decimal: {value!r}") from None


def int_check(
    minimum: int | None = None,
    allowed: frozenset[int] | None = None,
    maximum: int = BIGINT_MAX,
) -> pa.Check:
    def check(value: object) -> bool:
        if not is_int(value):
            return False
        if minimum is not None and value < minimum:  # type: ignore[operator]
            return False
        if not -BIGINT_MAX <= value <= maximum:  # type: ignore[operator]
            return False
        return allowed is None or value in allowed

    parts = ["an integer"]
    if minimum is not None:
        parts.append(f">= {minimum}")
    if maximum != BIGINT_MAX:
        parts.append(f"<= {maximum}")
    if allowed is not None:
        parts.append(f"in {sorted(allowed)}")
    return pa.Check(check, element_wise=True, name=" ".join(parts))


def decimal_check(*, non_negative: bool = False, at_most: str | None = None) -> pa.Check:
    limit = Decimal(at_most) if at_most is not None else None

    def check(value: object) -> bool:
        if not is_decimal_string(value) or not fits_decimal_38_18(value):  # type: ignore[arg-type]
            return False
        number = to_decimal(value)  # type: ignore[arg-type]
        if non_negative and number < 0:
            return False
        return limit is None or number <= limit

    name = "a decimal string"
    if non_negative:
        name = "a non-negative decimal string"
    if at_most is not None:
        name += f" <= {at_most}"
    name += " (at most 20 integer digits and 18 decimals)"
    return pa.Check(check, element_wise=True, name=name)


def string_check(pattern: re.Pattern[str] | None = None, *, name: str = "a string") -> pa.Check:
    def check(value: object) -> bool:
        if not isinstance(value, str) or not is_utf8(value):
            return False
        return pattern is None or pattern.match(value) is not None

    return pa.Check(check, element_wise=True, name=name)


def printable_check() -> pa.Check:
    """Any JSON value whose text form can be stored (the untrusted usdAmount, kept as text)."""

    def check(value: object) -> bool:
        return is_utf8(str(value))

    return pa.Check(check, element_wise=True, name="text without lone surrogates")


def one_of_check(allowed: frozenset[str], *, case_insensitive: bool = True) -> pa.Check:
    def check(value: object) -> bool:
        if not isinstance(value, str):
            return False
        return (value.upper() if case_insensitive else value) in allowed

    return pa.Check(check, element_wise=True, name=f"one of {sorted(allowed)}")
