"""The warehouse port: the small interface through which every dataset reads and writes.

Datasets never hold an engine connection. They open a session (``warehouse.session()``: one
transaction under the warehouse lock; ``warehouse.reader()``: read-only) and call the
operations below with their tables' column specs. What is engine-specific (registering a
pandas frame, casting it to the table's types, anti-joins, upserts, COPY to Parquet, locking,
schema creation and migrations) lives in the adapter (``warehouse.duckdb_session``); a second
adapter implements this protocol without touching a dataset folder. Dataset-specific reads and
derivations (a statistics aggregate, a status rule) pass plain SQL to ``query`` / ``execute``,
written in the subset that DuckDB and PostgreSQL share, with ``$name`` parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from opinion_pipeline.tables import Table
from opinion_pipeline.validation import Reject


class _Now:
    """The write's own timestamp: ``now()`` of the transaction."""

    def __repr__(self) -> str:
        return "NOW"


NOW = _Now()


@dataclass(frozen=True)
class KeyExists:
    """True where the row's ``column`` value is a key of ``table`` (e.g. a market is known)."""

    column: str
    table: str
    table_column: str


Value = Any  # a constant, NOW, or KeyExists: what a writer sets in columns the frame lacks


@dataclass(frozen=True)
class Upserted:
    inserted: int
    updated: int
    changed: int = 0  # updated rows in which a column named in ``changed`` differed


@dataclass(frozen=True)
class Inserted:
    """What ``insert_new`` stored: the new rows (frame columns only), and those it skipped."""

    rows: pd.DataFrame
    skipped: int
    true_counts: Mapping[str, int]  # per KeyExists column: how many inserted rows were True


@dataclass(frozen=True)
class ArchivedPart:
    file_name: str
    rows: int
    oldest: datetime | None
    newest: datetime | None


class WarehouseSession(Protocol):
    def upsert(
        self,
        table: Table,
        rows: pd.DataFrame,
        *,
        on_insert: Mapping[str, Value] | None = None,
        always: Mapping[str, Value] | None = None,
        changed: Sequence[str] = (),
    ) -> Upserted:
        """Insert rows with new keys, update the frame's columns of the others.

        ``on_insert`` sets columns only for new rows (``first_seen_at``); ``always`` for both.
        A key repeated in ``rows`` counts once (its first row). ``changed`` names columns whose
        changes are counted (a market's status).
        """

    def insert_new(
        self,
        table: Table,
        rows: pd.DataFrame,
        *,
        known_in: Sequence[Table] = (),
        always: Mapping[str, Value] | None = None,
    ) -> Inserted:
        """Insert only rows whose key is in neither ``table`` nor any ``known_in`` table."""

    def quarantine(
        self, entity: str, rejects: Sequence[tuple[str | None, Reject]], *, run_id: str | None
    ) -> int:
        """Keep rejected rows with their reasons; the same raw row is kept once. Returns new."""

    def watermarks(self, tables: Sequence[Table], *, by: str, column: str) -> dict[Any, int]:
        """The newest ``column`` (a time, as Unix seconds) per ``by`` value across ``tables``."""

    def count(self, table: Table | str) -> int: ...

    def table_names(self) -> set[str]: ...

    def archive_then_delete(
        self,
        table: Table,
        *,
        older_than: datetime,
        month: str,
        target: Path,
        ledger: Table | None = None,
        time_column: str = "created_at",
    ) -> ArchivedPart:
        """Write ``table``'s rows of ``month`` older than the cutoff to Parquet at ``target``
        (durably, then renamed into place), record their keys in ``ledger``, delete them."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]: ...

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement; returns the rows it changed."""

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame: ...


class Warehouse(Protocol):
    def session(self) -> AbstractContextManager[WarehouseSession]:
        """One transaction under the warehouse lock; an exception rolls all of it back."""

    def reader(self) -> AbstractContextManager[WarehouseSession]:
        """A read-only visit (it cannot write, and never creates a warehouse)."""
