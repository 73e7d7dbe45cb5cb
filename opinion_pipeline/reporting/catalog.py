"""Column schemas for the asset catalog, from the column spec (``opinion_pipeline.tables``).

``column_schema(table)`` is an asset's ``dagster/column_schema`` metadata: names, DuckDB
types, nullability, the key and each column's description, all taken from the one declaration
of the table, so what the UI shows is what the DDL creates and what pandera checks.
"""

from __future__ import annotations

import dagster as dg

from opinion_pipeline.tables import Table

COLUMN_SCHEMA_KEY = "dagster/column_schema"


def table_schema(table: Table) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                column.name,
                column.type,
                description=column.description,
                constraints=dg.TableColumnConstraints(
                    nullable=column.nullable, unique=column.name in table.key
                ),
            )
            for column in table.columns
        ],
        constraints=dg.TableConstraints(other=[key_constraint(table)]) if table.key else None,
    )


def key_constraint(table: Table) -> str:
    keys = ", ".join(table.key)
    if table.key_kind == "writer":
        return (
            f"unique key ({keys}), kept by the writer without an index and "
            "verified by the trade_keys_unique check"
        )
    return f"primary key ({keys})"


def column_schema(table: Table) -> dict[str, dg.TableSchema]:
    """``metadata=`` for an asset: its ``dagster/column_schema`` from ``table``'s columns."""
    return {COLUMN_SCHEMA_KEY: table_schema(table)}
