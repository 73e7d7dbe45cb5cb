"""The DuckDB warehouse as a Dagster resource.

DuckDB lets one process open a database file at a time, and that lock also blocks readers in
other processes. Every Dagster run is its own process and the four schedules overlap, so every
access goes through :meth:`DuckDBWarehouse.connection`: it takes an exclusive file lock next to
the database, opens DuckDB, and closes both as soon as the block ends. Callers keep blocks short
and never make API calls inside one. Waiting for the lock is normal; a writer is never refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from dagster import ConfigurableResource
from filelock import FileLock, Timeout
from pydantic import Field

from opinion_pipeline.errors import UserFacingError
from opinion_pipeline.warehouse.catalog import DATASETS_PACKAGE, warehouse_tables
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline.warehouse.migrations import SchemaVersionError, ensure_schema


class WarehouseError(UserFacingError, RuntimeError):
    """The warehouse could not be opened (bad path, unwritable directory, lock timeout)."""


class QueryError(UserFacingError, ValueError):
    """The database refused an ad-hoc query (bad SQL, unknown table); the message is its own."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]


TABLE_SIZES_SQL = """
SELECT table_name, estimated_size AS rows
FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name
"""


class DuckDBWarehouse(ConfigurableResource):
    path: str = Field(description="DuckDB file (OPINION_WAREHOUSE_PATH).")
    lock_timeout_s: float = Field(
        default=900.0, description="How long to wait for another process's write to finish."
    )
    datasets_package: str = Field(
        default=DATASETS_PACKAGE,
        description="Package whose dataset folders declare the tables (<dataset>/tables.py).",
    )

    @property
    def lock_path(self) -> Path:
        return Path(f"{self.path}.lock")

    def _prepare_directory(self) -> None:
        directory = Path(self.path).parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise WarehouseError(
                f"cannot create the warehouse directory {directory} "
                f"(OPINION_WAREHOUSE_PATH / OPINION_DATA_DIR): {error.strerror}"
            ) from None

    @contextmanager
    def _lock(self) -> Iterator[None]:
        lock = FileLock(str(self.lock_path), timeout=self.lock_timeout_s)
        try:
            lock.acquire()
        except Timeout:
            raise WarehouseError(
                f"timed out after {self.lock_timeout_s:.0f}s waiting for the warehouse lock "
                f"{self.lock_path}"
            ) from None
        except OSError as error:
            raise WarehouseError(
                f"cannot create the warehouse lock {self.lock_path}: {error.strerror}"
            ) from None
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def connection(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """An open connection, held under the cross-process lock for the block's duration.

        A reader of a missing warehouse is refused before anything is made: no directory, no
        lock file (a mistyped ``warehouse-query --path`` must not leave folders behind).
        """
        if read_only and not Path(self.path).exists():
            raise WarehouseError(f"no warehouse at {self.path} yet: run a sync first")
        self._prepare_directory()
        with self._lock():
            if read_only and not Path(self.path).exists():
                raise WarehouseError(f"no warehouse at {self.path} yet: run a sync first")
            try:
                conn = duckdb.connect(self.path, read_only=read_only)
            except duckdb.Error as error:
                raise WarehouseError(f"cannot open the warehouse {self.path}: {error}") from None
            try:
                if read_only:
                    conn.execute("SET TimeZone = 'UTC'")
                else:
                    self._ensure_schema(conn)
                yield conn
            finally:
                conn.close()

    @contextmanager
    def session(self) -> Iterator[DuckDBSession]:
        """The port's write session: one transaction under the lock (``warehouse.port``)."""
        with self.transaction() as conn:
            yield DuckDBSession(conn)

    @contextmanager
    def reader(self) -> Iterator[DuckDBSession]:
        """The port's read-only session; a missing or unreadable warehouse is a WarehouseError.

        Errors of the engine inside the block come out as WarehouseError too, so readers (the
        health probe, the CLIs) handle one error type whatever adapter is behind the port.
        """
        with self.connection(read_only=True) as conn:
            try:
                yield DuckDBSession(conn)
            except duckdb.Error as error:
                message = f"reading the warehouse {self.path} failed: {error}"
                raise WarehouseError(message) from error

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside BEGIN ... COMMIT; any exception rolls everything back."""
        with self.connection() as conn:
            conn.execute("BEGIN TRANSACTION")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _ensure_schema(self, conn: duckdb.DuckDBPyConnection) -> None:
        try:
            ensure_schema(conn, warehouse_tables(self.datasets_package))
        except SchemaVersionError as error:
            raise WarehouseError(str(error)) from None

    def read_query(self, sql: str) -> QueryResult | None:
        """One ad-hoc read-only query (``warehouse-query``): its columns and rows, or None for
        a statement without rows. No warehouse is a WarehouseError, a refused query QueryError."""
        with self.connection(read_only=True) as conn:
            try:
                relation = conn.sql(sql)
                if relation is None:
                    return None
                return QueryResult(list(relation.columns), relation.fetchall())
            except duckdb.Error as error:
                raise QueryError(str(error)) from None

    def table_sizes(self) -> QueryResult | None:
        """Every table with its (estimated) row count."""
        return self.read_query(TABLE_SIZES_SQL)
