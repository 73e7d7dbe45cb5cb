"""Small deterministic helpers shared by the simulator modules.

Everything random in the simulated world is derived from the seed through SHA-256, never from
Python's ``hash()`` (salted per process), so two runs with one seed agree byte for byte.
"""

from __future__ import annotations

import hashlib
import random
from decimal import Context, Decimal

API_KEY_ENV = "OPINION_SIMULATOR_API_KEY"  # how the key reaches a child process
USDT_BSC = "0x55d398326f99059fF775485246999027B3197955"
CHAIN_ID = "56"
TOKEN_ID_LOW = 10**76  # token ids are exactly 77 decimal digits
TOKEN_ID_SPAN = 9 * 10**76
EXACT = Context(prec=80)  # wide enough that no money arithmetic here ever rounds


def digest(*parts: object) -> str:
    """Hex SHA-256 of the parts joined with ':'."""
    return hashlib.sha256(":".join(str(part) for part in parts).encode()).hexdigest()


def seeded_rng(*parts: object) -> random.Random:
    """A Random whose stream depends only on ``parts`` (str seeding hashes with SHA-512)."""
    return random.Random(":".join(str(part) for part in parts))


def hex_id(length: int, *parts: object) -> str:
    """0x + ``length`` lowercase hex digits derived from ``parts``."""
    text = digest(*parts)
    while len(text) < length:
        text += digest(text)
    return "0x" + text[:length]


def token_id(*parts: object) -> str:
    """A 77-digit decimal uint256-like string, the shape of Opinion's token ids."""
    return str(TOKEN_ID_LOW + int(digest(*parts), 16) % TOKEN_ID_SPAN)


def dec_str(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros ("12.5", "0", "-3.25")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("", "-0"):
        return "0"
    return text


def scaled(units: int, exponent: int) -> Decimal:
    """``units`` x 10^-exponent, exactly."""
    return Decimal(units).scaleb(-exponent, context=EXACT)


def fingerprint(key: str | None) -> str:
    """How counters name an API key without revealing it."""
    if not key:
        return "none"
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:12]
