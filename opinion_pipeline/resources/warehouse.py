"""The warehouse resource the datasets ask for: the one line that picks the adapter.

Dataset folders annotate their assets with ``WarehouseResource`` and talk to it only through
the port (``warehouse.port``: ``session()`` / ``reader()``). A second adapter is a new module
under ``warehouse/`` and a change to this file, not to any dataset.
"""

from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse, WarehouseError

WarehouseResource = DuckDBWarehouse

__all__ = ["WarehouseError", "WarehouseResource"]
