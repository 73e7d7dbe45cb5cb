"""DuckDB DDL and load casts, derived from the column spec (``opinion_pipeline.tables``)."""

from __future__ import annotations

from opinion_pipeline.tables import INTEGER_TYPES, MONEY, TIMESTAMP, Column, Table


def create_statement(table: Table) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for ``table``, columns in declared order."""
    lines = []
    for column in table.columns:
        line = f"    {column.name} {column.type}"
        if table.key_kind == "primary" and table.key == (column.name,):
            line += " PRIMARY KEY"
        elif not column.nullable:
            line += " NOT NULL"
        if column.default is not None:
            line += f" DEFAULT {column.default}"
        lines.append(line)
    if table.key_kind == "primary" and len(table.key) > 1:
        lines.append(f"    PRIMARY KEY ({', '.join(table.key)})")
    body = ",\n".join(lines)
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n{body}\n)"


def load_expression(column: Column) -> str:
    """SELECT expression turning a validated frame column into its warehouse type.

    Decimals arrive as strings and are cast straight to DECIMAL (never through float); times
    arrive as Unix seconds.
    """
    name = column.name
    if column.type == MONEY:
        return f"CAST({name} AS {MONEY}) AS {name}"
    if column.type == TIMESTAMP:
        return f"to_timestamp(CAST({name} AS BIGINT)) AS {name}"
    if column.type in INTEGER_TYPES:
        return f"CAST({name} AS BIGINT) AS {name}"
    return f"CAST({name} AS {column.type}) AS {name}"


def load_select(table: Table) -> str:
    """The cast of every frame column of ``table``, in storage order, for ``INSERT ... SELECT``."""
    return ", ".join(load_expression(table.column(name)) for name in table.frame_columns)
