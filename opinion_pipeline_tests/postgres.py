"""A throwaway PostgreSQL database for instance tests, from the server in OPINION_TEST_POSTGRES_URL.

Outside CI an unreachable server skips the test with a reason saying how to run it; in CI
(CI=true) it fails, because CI machines have PostgreSQL and the test must run there.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get("OPINION_TEST_POSTGRES_URL", DEFAULT_URL)


def _connect(url: str, database: str | None = None):
    import psycopg2

    parts = urlparse(url)
    return psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname=database or (parts.path.lstrip("/") or "postgres"),
        connect_timeout=3,
    )


def _unreachable(reason: str) -> None:
    message = (
        f"PostgreSQL is not reachable at {server_url()} ({reason}). Start a server (trust auth) "
        "or set OPINION_TEST_POSTGRES_URL=postgresql://user:password@host:port/db to run this test."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def temporary_database() -> Iterator[dict[str, str]]:
    """Create a fresh database, yield DAGSTER_PG_* style settings for it, drop it afterwards."""
    url = server_url()
    try:
        admin = _connect(url)
    except Exception as error:
        _unreachable(type(error).__name__)
    admin.autocommit = True
    name = f"opinion_test_{secrets.token_hex(6)}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    parts = urlparse(url)
    try:
        yield {
            "DAGSTER_PG_HOST": parts.hostname or "127.0.0.1",
            "DAGSTER_PG_PORT": str(parts.port or 5432),
            "DAGSTER_PG_USER": parts.username or "postgres",
            "DAGSTER_PG_PASSWORD": parts.password or "",
            "DAGSTER_PG_DB": name,
        }
    finally:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
            )
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
