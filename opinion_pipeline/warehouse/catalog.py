"""Which tables the warehouse holds: the shared ones plus those the dataset folders declare.

A dataset declares its tables in ``<package>/<dataset>/tables.py``; the catalog finds them by
that convention (as Dagster's loader finds the folders' assets), so adding a dataset adds its
tables without a line here. The package is a parameter of the warehouse resource
(``DuckDBWarehouse.datasets_package``), not an import, so arrows keep running from the
datasets to the warehouse and never back.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from functools import cache

from opinion_pipeline.tables import Table
from opinion_pipeline.warehouse.quarantine import QUARANTINE
from opinion_pipeline.warehouse.versions import SCHEMA_VERSION_TABLE

DATASETS_PACKAGE = "opinion_pipeline.defs"
SHARED_TABLES = (SCHEMA_VERSION_TABLE, QUARANTINE)


@cache
def dataset_tables(package: str = DATASETS_PACKAGE) -> tuple[Table, ...]:
    """The stored tables declared in ``package``'s dataset folders, folder by folder."""
    root = importlib.import_module(package)
    found: list[Table] = []
    for folder in sorted(pkgutil.iter_modules(root.__path__), key=lambda info: info.name):
        name = f"{package}.{folder.name}.tables"
        if not folder.ispkg or importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        found.extend(
            value for value in vars(module).values() if isinstance(value, Table) and value.stored
        )
    return tuple(found)


@cache
def warehouse_tables(package: str = DATASETS_PACKAGE) -> tuple[Table, ...]:
    """Every table of the warehouse: the shared ones first, then the datasets'."""
    tables = (*SHARED_TABLES, *dataset_tables(package))
    names = [table.name for table in tables]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"tables declared twice: {', '.join(repeated)}")
    return tables


def health_row_limits(package: str = DATASETS_PACKAGE) -> dict[str, dict[str, int]]:
    """The health check's default sizes: ``{table: {"warn": N, "error": M}}`` for every table
    whose spec declares ``row_limits``, in catalog order."""
    return {
        table.name: {"warn": table.row_limits.warn, "error": table.row_limits.error}
        for table in warehouse_tables(package)
        if table.row_limits is not None
    }


def table(name: str, package: str = DATASETS_PACKAGE) -> Table:
    for candidate in warehouse_tables(package):
        if candidate.name == name:
            return candidate
    raise KeyError(f"no table {name!r} in the warehouse catalog")
