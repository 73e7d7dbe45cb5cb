"""What a sync did, as the numbers Dagster records on each materialization (the sync log)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from opinion_pipeline.validation import Reject, summarise_rejects


@dataclass
class SyncReport:
    items_fetched: int = 0
    new_rows: int = 0
    duplicates_skipped: int = 0
    quarantined: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited_429s: int = 0
    seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)
    rejects: list[tuple[str | None, Reject]] = field(default_factory=list)
    table_rows: int | None = None  # rows in the asset's table after the sync (dagster/row_count)

    def numbers(self) -> dict[str, float]:
        values: dict[str, Any] = {
            name: value
            for name, value in asdict(self).items()
            if isinstance(value, int | float)
            and not isinstance(value, bool)
            and name != "table_rows"
        }
        values["seconds"] = round(self.seconds, 3)
        return {**values, **self.extra}

    def reject_summary(self) -> str:
        return summarise_rejects([reject for _, reject in self.rejects])


class ApiCounters:
    """Difference of the client's request counters over one sync."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._before = dict(client.stats())

    def apply(self, report: SyncReport) -> None:
        after = self._client.stats()

        def delta(name: str) -> int:
            return int(after.get(name, 0) - self._before.get(name, 0))

        report.requests = delta("requests")
        report.retries = delta("retries")
        report.rate_limited_429s = delta("rate_limited")
