"""The column spec: each table's columns declared once, with everything derived from them.

A dataset declares its tables in its own folder (``defs/<dataset>/tables.py``) as :class:`Table`
objects. From one declaration come the pandera schema of the API payload
(``validation.schema.payload_schema``), the DuckDB DDL and the casts that load a validated
frame (``warehouse.ddl``), and the column schema the asset catalog shows
(``reporting.catalog.column_schema``), so the four cannot drift apart.

A column is filled in one of three ways: from an API field validated by its :class:`Source`
(``source=``), derived by the dataset's own code from validated fields (``derived=True``: the
trade key, a USD value), or set by the writer when it stores the row (neither: ``ingested_at``,
``run_id``). The first two make up the frame a dataset hands to the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import pandera.pandas as pa

MONEY = "DECIMAL(38,18)"  # the API sends up to 18 decimals; never float
TIMESTAMP = "TIMESTAMP WITH TIME ZONE"  # TIMESTAMPTZ, spelled as DuckDB describes it; UTC
INTEGER_TYPES = frozenset({"BIGINT", "INTEGER", "SMALLINT"})
KeyKind = Literal["primary", "writer"]


@dataclass(frozen=True)
class Source:
    """An API field and the pandera check its value must pass."""

    field: str
    check: pa.Check
    nullable: bool = False


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as DuckDB describes it: BIGINT, VARCHAR, TIMESTAMP, MONEY, VARCHAR[], ...
    description: str
    nullable: bool = True
    source: Source | None = None
    derived: bool = False
    default: str | None = None  # SQL default expression

    @property
    def in_frame(self) -> bool:
        """Whether the dataset's validated frame carries this column (else the writer sets it)."""
        return self.source is not None or self.derived


@dataclass(frozen=True)
class RowLimits:
    """Row counts above which the health check warns and errors for one table.

    OPINION_HEALTH_THRESHOLDS can override either level per table at run time.
    """

    warn: int
    error: int

    def __post_init__(self) -> None:
        if not 0 <= self.warn <= self.error:
            raise ValueError(f"row limits need 0 <= warn <= error, got {self.warn}, {self.error}")


@dataclass(frozen=True)
class Table:
    """A table: its columns in storage order and its natural key.

    ``key_kind`` "primary" is a PRIMARY KEY; "writer" is a key the table's only writer keeps
    unique without an index (see ``defs/whale_trades/tables.py`` for why). ``stored`` False
    describes data that is not a warehouse table (a Parquet archive, a metadata table), for the
    catalog only. ``payload`` names the API row type its sources validate (pandera's name).
    ``row_limits`` are the health check's default sizes for a stored table; every stored table
    has them except the few the health check leaves out on purpose (see its tests).
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    key_kind: KeyKind = "primary"
    stored: bool = True
    payload: str | None = None
    extra_sources: tuple[Source, ...] = field(default_factory=tuple)
    row_limits: RowLimits | None = None

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: a column is declared twice")
        missing = set(self.key) - set(names)
        if missing:
            raise ValueError(f"table {self.name}: key columns {sorted(missing)} are not columns")
        nullable_keys = [c.name for c in self.columns if c.name in self.key and c.nullable]
        if nullable_keys:
            raise ValueError(f"table {self.name}: key columns {nullable_keys} must be NOT NULL")

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def frame_columns(self) -> list[str]:
        """The columns of the validated frame a dataset writes, in storage order."""
        return [column.name for column in self.columns if column.in_frame]

    @property
    def sources(self) -> list[Source]:
        """Every API field the payload schema checks: the columns' sources, then the extras."""
        found = [column.source for column in self.columns if column.source is not None]
        return [*found, *self.extra_sources]
