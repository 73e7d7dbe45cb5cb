"""The natural key of a trade.

The API hides trade ids, and neither a timestamp nor a txHash is unique (one transaction can
settle several fills, and two fills can even be identical in every field). A trade's key is
therefore a hash of the wallet and every field that describes the fill, plus an *occurrence*
number that tells identical fills of one wallet apart (0 for the first, 1 for its twin, ...).

Occurrences are counted over one fetch in API order. The client drops rows repeated by a page
shift, and every fetch re-reads all rows at or after the newest stored timestamp, so a group of
identical fills (which share a timestamp) is always counted whole or as a prefix of itself:
the same fills get the same keys on every sync.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence

KEY_FIELDS = (
    "txHash",
    "marketId",
    "outcomeSide",
    "side",
    "price",
    "shares",
    "amount",
    "createdAt",
)


def fill_fingerprint(wallet: str, values: Sequence[object]) -> str:
    """Canonical text of one fill: lowercase wallet and hash, uppercase side."""
    parts = [wallet.lower()]
    for field, value in zip(KEY_FIELDS, values, strict=True):
        text = str(value)
        if field == "txHash":
            text = text.lower()
        elif field == "side":
            text = text.upper()
        parts.append(text)
    return "|".join(parts)


def trade_keys(wallet: str, fills: Iterable[Sequence[object]]) -> tuple[list[str], list[int]]:
    """Keys and occurrence numbers for the fills of one wallet, in API order."""
    seen: Counter[str] = Counter()
    keys: list[str] = []
    occurrences: list[int] = []
    for values in fills:
        fingerprint = fill_fingerprint(wallet, values)
        occurrence = seen[fingerprint]
        seen[fingerprint] += 1
        digest = hashlib.sha256(f"{fingerprint}#{occurrence}".encode()).hexdigest()
        keys.append(digest[:32])
        occurrences.append(occurrence)
    return keys, occurrences
