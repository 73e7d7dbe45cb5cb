"""The pandera schema of an API payload, derived from the sources of a table's columns."""

from __future__ import annotations

from functools import cache

import pandera.pandas as pa

from opinion_pipeline.tables import Table


@cache
def payload_schema(table: Table) -> pa.DataFrameSchema:
    """One object column per API field the table's columns come from; unknown fields ignored.

    Columns are ``object`` and every check is element-wise on the value as parsed from JSON,
    so pandas never coerces an int to a float or a string to NaN before the check sees it.
    """
    return pa.DataFrameSchema(
        name=table.payload or table.name,
        strict=False,
        columns={
            source.field: pa.Column(
                object, checks=[source.check], nullable=source.nullable, required=True
            )
            for source in table.sources
        },
    )
