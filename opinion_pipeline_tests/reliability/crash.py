"""Kill machinery and the archive invariants the crash tests check after every kill.

A task runs in a child of the fork server; the parent SIGKILLs it after a random delay. Delays
are drawn half over the whole expected run and half over its last third, where the writes
happen, so kills land in fetching, validation, transactions and commits alike.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import duckdb

from opinion_pipeline_tests.reliability import tasks

ARCHIVED = ("trades", "whale_activity")


@dataclass
class KillLog:
    """How the kills went: landed mid-run, or the run finished first (then timed)."""

    landed: int = 0
    finished_first: int = 0
    last_duration: float | None = None

    def next_delay(self, rng: random.Random, default: float) -> float:
        expected = (self.last_duration or default) * 1.1
        if rng.random() < 0.5:
            return rng.uniform(0.0, expected)
        return rng.uniform(expected * 0.66, expected)


def run_and_kill(
    context: BaseContext, task: str, params: dict[str, Any], delay: float
) -> float | None:
    """Start ``task``; SIGKILL it after ``delay`` s. None if the kill landed while it ran.

    A run that finished first (even in the instant before the signal) must have succeeded;
    its duration is returned, to aim the next delays.
    """
    process = context.Process(target=tasks.run, args=(task, params), daemon=True)
    started = time.monotonic()
    process.start()
    process.join(delay)
    if process.exitcode is None:
        process.kill()
        process.join(30)
    if process.exitcode == -signal.SIGKILL:
        return None
    assert process.exitcode == 0, f"{task} failed on its own (exit {process.exitcode})"
    return time.monotonic() - started


def run_to_end(
    context: BaseContext, task: str, params: dict[str, Any], timeout: float = 120
) -> None:
    """Run ``task`` normally (the rerun after the kills); it must succeed."""
    process = context.Process(target=tasks.run, args=(task, params), daemon=True)
    process.start()
    process.join(timeout)
    if process.exitcode is None:
        process.kill()
        raise AssertionError(f"{task} did not finish within {timeout}s")
    assert process.exitcode == 0, f"{task} rerun failed (exit {process.exitcode})"


def kill_round(
    context: BaseContext,
    task: str,
    params: dict[str, Any],
    log: KillLog,
    rng: random.Random,
    default: float,
) -> None:
    duration = run_and_kill(context, task, params, log.next_delay(rng, default))
    if duration is None:
        log.landed += 1
    else:
        log.finished_first += 1
        log.last_duration = duration


def archive_state(warehouse_path: str, archive_dir: Path) -> dict[str, Any]:
    """What the tables and the archive hold, per table: keys, per-file keys, manifest, orphans."""
    with duckdb.connect(warehouse_path, read_only=True) as conn:
        table_keys = {
            table: Counter(k for (k,) in conn.execute(f"SELECT trade_key FROM {table}").fetchall())
            for table in ARCHIVED
        }
        manifest = conn.execute(
            "SELECT file_path, table_name, row_count FROM archive_manifest"
        ).fetchall()
    on_disk = (
        {
            path.relative_to(archive_dir).as_posix()
            for path in archive_dir.rglob("*")
            if path.is_file()
        }
        if archive_dir.exists()
        else set()
    )
    listed = {path for path, _, _ in manifest}
    files: dict[str, dict[str, Counter]] = {table: {} for table in ARCHIVED}
    bad_counts = []
    with duckdb.connect() as reader:
        for path, table, count in manifest:
            target = (archive_dir / path).as_posix().replace("'", "''")
            keys = Counter(
                k
                for (k,) in reader.execute(
                    f"SELECT trade_key FROM read_parquet('{target}')"
                ).fetchall()
            )
            files[table][path] = keys
            if sum(keys.values()) != count:
                bad_counts.append(path)
    return {
        "table_keys": table_keys,
        "files": files,
        "missing_files": sorted(listed - on_disk),
        "orphans": sorted(on_disk - listed),
        "bad_counts": bad_counts,
    }


def archive_violations(state: dict[str, Any], ever_stored: dict[str, set[str]]) -> list[str]:
    """Every stored row is in its table or in exactly one listed archive file, never both."""
    problems = list(f"manifest lists a missing file {p}" for p in state["missing_files"])
    problems += [f"manifest row_count differs from file {p}" for p in state["bad_counts"]]
    for table in ARCHIVED:
        archived: Counter[str] = Counter()
        for keys in state["files"][table].values():
            archived.update(keys)
        in_table = state["table_keys"][table]
        twice = [k for k, n in archived.items() if n > 1]
        both = set(archived) & set(in_table)
        lost = ever_stored[table] - set(archived) - set(in_table)
        if twice:
            problems.append(f"{table}: {len(twice)} rows archived twice")
        if both:
            problems.append(f"{table}: {len(both)} rows both archived and still in the table")
        if lost:
            problems.append(f"{table}: {len(lost)} rows deleted without being archived")
    return problems
