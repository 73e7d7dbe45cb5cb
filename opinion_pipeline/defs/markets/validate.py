"""Flatten the market list (categorical children under their parent) and validate it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from opinion_pipeline.defs.markets.tables import MARKETS
from opinion_pipeline.validation.checks import is_utf8
from opinion_pipeline.validation.frames import Reject, validate_rows
from opinion_pipeline.validation.schema import payload_schema

MARKET_COLUMNS = MARKETS.frame_columns


@dataclass(frozen=True)
class MarketBatch:
    rows: pd.DataFrame  # MARKET_COLUMNS; timestamps as Unix seconds with 0 -> None
    rejects: list[Reject]
    parents: int
    children: int


MISSING_PARENT_ID = "(parent has no valid marketId)"


def flatten_markets(raw_rows: Sequence[Any]) -> tuple[list[Any], set[int]]:
    """Parents followed by their children, and the positions of the parents.

    A child inherits marketType and gets parentMarketId; a child of a parent without an id gets
    a parentMarketId that fails validation, so it is quarantined rather than stored as a parent.
    """
    flat: list[Any] = []
    top_level: set[int] = set()
    for row in raw_rows:
        top_level.add(len(flat))
        flat.append(row)
        if not isinstance(row, dict):
            continue
        children = row.get("childMarkets") or []
        if not isinstance(children, list):
            continue
        for child in children:
            if isinstance(child, dict):
                flat.append(
                    {
                        "marketType": row.get("marketType"),
                        **child,
                        "parentMarketId": row.get("marketId", MISSING_PARENT_ID),
                    }
                )
            else:
                flat.append(child)
    return flat, top_level


def _timestamp_or_none(series: pd.Series) -> pd.Series:
    """API timestamps are Unix seconds where 0 means unset."""
    values = [None if value in (None, 0) else int(value) for value in series]
    return pd.Series(values, index=series.index, dtype=object)


def _labels(value: Any) -> str | None:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, list) else None
    return text if text is None or is_utf8(text) else json.dumps(value)


def _slug(value: Any) -> str | None:
    """An undocumented extra: kept when it is storable text, dropped (not failed) otherwise."""
    return value if isinstance(value, str) and is_utf8(value) else None


def prepare_markets(raw_rows: Sequence[Any]) -> MarketBatch:
    flat, top_level = flatten_markets(raw_rows)
    valid, rejects = validate_rows(flat, payload_schema(MARKETS))
    originals = [flat[position] for position in valid.index]
    parent_ids = [row.get("parentMarketId") for row in originals]
    frame = pd.DataFrame(
        {
            "market_id": valid["marketId"].astype("int64"),
            "parent_market_id": pd.Series(parent_ids, index=valid.index, dtype=object),
            "market_type": valid["marketType"].astype("int64"),
            "title": valid["marketTitle"],
            "status": valid["status"].astype("int64"),
            "status_enum": valid["statusEnum"],
            "yes_label": valid["yesLabel"],
            "no_label": valid["noLabel"],
            "rules": valid["rules"],
            "yes_token_id": valid["yesTokenId"],
            "no_token_id": valid["noTokenId"],
            "condition_id": valid["conditionId"],
            "result_token_id": valid["resultTokenId"],
            "question_id": valid["questionId"],
            "volume": valid["volume"],
            "volume_24h": valid["volume24h"],
            "volume_7d": valid["volume7d"],
            "quote_token": valid["quoteToken"].str.lower(),
            "chain_id": valid["chainId"],
            "created_at": _timestamp_or_none(valid["createdAt"]),
            "cutoff_at": _timestamp_or_none(valid["cutoffAt"]),
            "resolved_at": _timestamp_or_none(valid["resolvedAt"]),
            "slug": pd.Series(
                [_slug(row.get("slug")) for row in originals], index=valid.index, dtype=object
            ),
            "labels": pd.Series(
                [_labels(row.get("labels")) for row in originals], index=valid.index, dtype=object
            ),
        },
        columns=MARKET_COLUMNS,
    ).reset_index(drop=True)
    parents = sum(1 for position in valid.index if position in top_level)
    return MarketBatch(rows=frame, rejects=rejects, parents=parents, children=len(frame) - parents)
