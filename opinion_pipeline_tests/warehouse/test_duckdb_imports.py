"""Only the warehouse adapter talks to DuckDB: every other module goes through the port."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import opinion_pipeline

ROOT = Path(opinion_pipeline.__file__).parent


def _imports_duckdb(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] == "duckdb" for alias in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "duckdb":
            return True
    return False


@pytest.mark.unit
def test_only_the_warehouse_package_imports_duckdb():
    importers = sorted(
        str(path.relative_to(ROOT)) for path in ROOT.rglob("*.py") if _imports_duckdb(path)
    )
    assert importers, "the scan found no importer at all: it is not looking at the package"
    outside = [name for name in importers if not name.startswith("warehouse/")]
    assert outside == [], f"import duckdb outside opinion_pipeline/warehouse/: {outside}"
