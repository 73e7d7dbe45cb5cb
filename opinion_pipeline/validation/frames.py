"""Run a pandera schema over raw API rows and split them into valid rows and rejects."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa

from opinion_pipeline.errors import UserFacingError

MAX_SHOWN_VALUE = 80


@dataclass(frozen=True)
class Reject:
    """One raw row that failed validation, with every reason it failed."""

    position: int  # index of the row in the payload it came from
    raw: dict[str, Any]
    reason: str

    def raw_json(self) -> str:
        return json.dumps(self.raw, sort_keys=True, default=str)


class PayloadUnusableError(UserFacingError, ValueError):
    """Nothing in a payload passed validation; the run fails and writes nothing."""


def object_frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """One object column per field, values exactly as parsed from JSON (missing -> None).

    Built column by column with dtype=object so pandas never coerces ints to floats or strings
    to NaN before the schema has seen them.
    """
    data = {
        column: pd.Series([row.get(column) for row in rows], dtype=object) for column in columns
    }
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_VALUE else text[: MAX_SHOWN_VALUE - 3] + "..."


def _reasons_by_row(
    error: pa_errors.SchemaErrors, rows: Sequence[dict[str, Any]]
) -> dict[int, str]:
    reasons: dict[int, list[str]] = defaultdict(list)
    cases = error.failure_cases
    for case in cases.itertuples(index=False):
        index = case.index
        if index is None or pd.isna(index):
            raise PayloadUnusableError(
                f"payload failed schema {error.schema.name}: {case.check} on column {case.column}"
            )
        position = int(index)
        column = str(case.column)
        if column not in rows[position]:
            reasons[position].append(f"{column}: missing")
        elif rows[position][column] is None:
            reasons[position].append(f"{column}: null")
        else:
            value = rows[position][column]
            reasons[position].append(f"{column}: expected {case.check}, got {_shown(value)}")
    return {position: "; ".join(parts) for position, parts in reasons.items()}


def validate_rows(
    rows: Sequence[dict[str, Any]], schema: pa.DataFrameSchema
) -> tuple[pd.DataFrame, list[Reject]]:
    """Validate ``rows`` against ``schema``.

    Returns the valid rows (object columns, original positions as the index) and one Reject per
    invalid row naming every field that failed. Rows that are not JSON objects are rejects too.
    """
    objects = [row if isinstance(row, dict) else {} for row in rows]
    frame = object_frame(objects, list(schema.columns))
    rejects: list[Reject] = [
        Reject(position, {"value": row}, "row is not a JSON object")
        for position, row in enumerate(rows)
        if not isinstance(row, dict)
    ]
    not_objects = {reject.position for reject in rejects}
    try:
        schema.validate(frame, lazy=True)
        reasons: dict[int, str] = {}
    except pa_errors.SchemaErrors as error:
        reasons = _reasons_by_row(error, objects)
    rejects.extend(
        Reject(position, objects[position], reason)
        for position, reason in sorted(reasons.items())
        if position not in not_objects
    )
    bad = {reject.position for reject in rejects}
    valid = frame.loc[[position for position in range(len(rows)) if position not in bad]]
    return valid, sorted(rejects, key=lambda reject: reject.position)


def summarise_rejects(rejects: Sequence[Reject], limit: int = 5) -> str:
    """A short human summary: the most common reasons, with counts."""
    counts: dict[str, int] = defaultdict(int)
    for reject in rejects:
        for part in reject.reason.split("; "):
            counts[part.split(", got ")[0]] += 1
    top = sorted(counts.items(), key=lambda item: -item[1])[:limit]
    return ", ".join(f"{reason} (x{count})" for reason, count in top)
