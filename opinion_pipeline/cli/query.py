"""``warehouse-query``: query the warehouse while the pipeline runs, without breaking it.

DuckDB lets one process hold the file, readers included, so a plain ``duckdb warehouse.duckdb``
would make the next sync wait or fail. This command takes the pipeline's own lock, opens the
file read-only for just the one query, and releases it: syncs wait a moment, never fail, and a
query can never write.

Which warehouse: the one ``scripts/start`` fills, by config's mode rule (``OPINION_MODE``, else
``live`` when ``OPINION_API_KEY`` is set and ``simulator`` when not; ``OPINION_WAREHOUSE_PATH``
or ``OPINION_DATA_DIR`` override it), run from the project root. It says which on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from opinion_pipeline.config import Settings, SettingsError, load_settings
from opinion_pipeline.warehouse.duckdb_warehouse import (
    DuckDBWarehouse,
    QueryError,
    QueryResult,
    WarehouseError,
)

EXAMPLES = """examples:
  warehouse-query --tables
  warehouse-query "SELECT label, total_volume_usd FROM whale_stats ORDER BY 2 DESC LIMIT 10"
  warehouse-query --format csv "SELECT * FROM whale_activity" > activity.csv
"""
# Table output rounds USD columns to cents and shows other decimals exactly (trailing zeros
# dropped); csv is exact; json carries numbers.
TABLE_USD_PLACES = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warehouse-query",
        description=(
            "Run one read-only SQL query against the warehouse scripts/start fills "
            "(data/simulator/warehouse.duckdb without OPINION_API_KEY, data/warehouse.duckdb "
            "with it; OPINION_MODE or OPINION_WAREHOUSE_PATH override). Run it from the "
            "project root; it names the warehouse it opened on stderr."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sql", nargs="?", help="the query (omit with --tables)")
    parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
    parser.add_argument("--tables", action="store_true", help="list tables with row counts")
    parser.add_argument("--path", help="warehouse file (default: by the mode, see above)")
    parser.add_argument("--max-rows", type=int, default=200, help="rows shown in table format")
    return parser


def fixed_point(value: Decimal, places: int | None = None) -> str:
    """A decimal as plain digits (never ``1E-7`` or ``6.76e+06``), trailing zeros dropped."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _cell(value: Any, column: str, output_format: str) -> Any:
    if not isinstance(value, Decimal):
        return value
    if output_format == "json":
        return float(value)
    if output_format == "csv":
        return fixed_point(value)
    usd = column.endswith("_usd") or column == "usd_value"
    return fixed_point(value, TABLE_USD_PLACES if usd else None)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _print(result: QueryResult, output_format: str, max_rows: int) -> None:
    columns = result.columns
    rows = [
        [_cell(value, column, output_format) for value, column in zip(row, columns, strict=True)]
        for row in result.rows
    ]
    if output_format == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        sys.stdout.write(json.dumps(records, default=_json_default) + "\n")
        return
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    if output_format == "csv":
        frame.to_csv(sys.stdout, index=False)
        return
    sys.stdout.write(frame.head(max_rows).to_string(index=False) + "\n")
    if len(frame) > max_rows:
        sys.stdout.write(f"... {len(frame) - max_rows} more rows (use --format csv)\n")


def _other_mode_hint(settings: Settings, path: Path) -> str:
    """When the mode's warehouse is missing but the other mode's exists, say how to reach it."""
    if settings.warehouse_path is not None or settings.data_dir is not None:
        return ""
    other = "live" if settings.effective_mode == "simulator" else "simulator"
    other_file = load_settings(mode=other).warehouse_file
    if other_file == path or not other_file.exists():
        return ""
    return f" (the {other} mode's warehouse is {other_file}: OPINION_MODE={other} opens it)"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.sql and not args.tables:
        _parser().error("give a SQL query, or --tables")
    try:
        settings = load_settings()
    except SettingsError as error:
        sys.stderr.write(f"warehouse-query: bad configuration: {error}\n")
        return 2
    if args.path:
        path, origin = Path(args.path).expanduser().resolve(), "--path"
    else:
        path, origin = settings.warehouse_file, f"{settings.effective_mode} mode"
    sys.stderr.write(f"warehouse-query: warehouse {path} ({origin})\n")
    warehouse = DuckDBWarehouse(path=str(path), lock_timeout_s=120)
    try:
        result = warehouse.table_sizes() if args.tables else warehouse.read_query(args.sql)
    except WarehouseError as error:
        hint = "" if args.path else _other_mode_hint(settings, path)
        sys.stderr.write(f"warehouse-query: {error}{hint}\n")
        return 2
    except QueryError as error:
        sys.stderr.write(f"warehouse-query: {error}\n")
        return 1
    if result is None:
        sys.stderr.write("the statement returned no rows\n")
        return 0
    _print(result, args.format, args.max_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
