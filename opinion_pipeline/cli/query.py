"""``warehouse-query``: query the warehouse while the pipeline runs, without breaking it.

DuckDB lets one process hold the file, readers included, so a plain ``duckdb warehouse.duckdb``
would make the next sync wait or fail. This command takes the pipeline's own lock, opens the
file read-only for just the one query, and releases it: syncs wait a moment, never fail, and a
query can never write.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

from opinion_pipeline.config import SettingsError, load_settings
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse, WarehouseError

EXAMPLES = """examples:
  warehouse-query "SELECT label, total_volume_usd FROM whale_stats ORDER BY 2 DESC LIMIT 10"
  warehouse-query --format csv "SELECT * FROM whale_activity" > activity.csv
  warehouse-query --tables
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warehouse-query",
        description="Run one read-only SQL query against the warehouse (OPINION_WAREHOUSE_PATH).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sql", nargs="?", help="the query (omit with --tables)")
    parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
    parser.add_argument("--tables", action="store_true", help="list tables with row counts")
    parser.add_argument("--path", help="warehouse file (default: OPINION_WAREHOUSE_PATH)")
    parser.add_argument("--max-rows", type=int, default=200, help="rows shown in table format")
    return parser


TABLES_SQL = """
SELECT table_name, estimated_size AS rows
FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name
"""


def _print(relation: duckdb.DuckDBPyRelation, output_format: str, max_rows: int) -> None:
    frame = relation.df()
    if output_format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif output_format == "json":
        frame.to_json(sys.stdout, orient="records", date_format="iso", default_handler=str)
        sys.stdout.write("\n")
    else:
        with_limit = frame.head(max_rows)
        sys.stdout.write(with_limit.to_string(index=False) + "\n")
        if len(frame) > max_rows:
            sys.stdout.write(f"... {len(frame) - max_rows} more rows (use --format csv)\n")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.sql and not args.tables:
        _parser().error("give a SQL query, or --tables")
    try:
        path = args.path or str(load_settings().warehouse_file)
    except SettingsError as error:
        sys.stderr.write(f"warehouse-query: {error}\n")
        return 2
    warehouse = DuckDBWarehouse(path=path, lock_timeout_s=120)
    try:
        with warehouse.connection(read_only=True) as conn:
            relation = conn.sql(TABLES_SQL if args.tables else args.sql)
            if relation is None:
                sys.stderr.write("the statement returned no rows\n")
                return 0
            _print(relation, args.format, args.max_rows)
    except WarehouseError as error:
        sys.stderr.write(f"warehouse-query: {error}\n")
        return 2
    except duckdb.Error as error:
        sys.stderr.write(f"warehouse-query: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
