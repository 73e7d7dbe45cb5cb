"""sync-log: recent runs per job from the Dagster instance, with the ingest counts and errors.

The terminal form of the seeds' ``select * from syncLogs where status='failed'``:

    sync-log                          # the last 10 runs of every job
    sync-log --status failed --since 24h
    sync-log --job sync_whale_trades --limit 50 --json

Reads the instance at $DAGSTER_HOME (the same one the daemon and webserver use); it never
opens the warehouse, so it works while syncs run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import dagster as dg

from opinion_pipeline.config import SettingsError, load_settings
from opinion_pipeline.run_log.summary import OWNER_TAG, RunSummary, summarise

STATUS_ALIASES = {
    "success": "SUCCESS", "succeeded": "SUCCESS", "ok": "SUCCESS",
    "failed": "FAILURE", "failure": "FAILURE", "error": "FAILURE",
    "canceled": "CANCELED", "cancelled": "CANCELED",
    "canceling": "CANCELING", "cancelling": "CANCELING",
    "running": "STARTED", "started": "STARTED", "starting": "STARTING",
    "queued": "QUEUED", "not_started": "NOT_STARTED",
}  # fmt: skip
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
# (column header, sync number) shown per run; "-" when the run recorded none.
COUNT_COLUMNS = (
    ("FETCHED", "items_fetched"),
    ("NEW", "new_rows"),
    ("QUAR", "quarantined"),
    ("REQ", "requests"),
    ("429", "rate_limited_429s"),
)
SCAN_FOR_JOB_NAMES = 1_000


class UsageError(Exception):
    """Bad arguments or environment: printed without a traceback, exit code 2."""


def parse_since(value: str, now: datetime) -> datetime:
    """'90s', '30m', '24h', '7d', '2w', or an ISO date/time (UTC unless it says otherwise)."""
    match = _DURATION.match(value)
    if match:
        return now - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            f"--since {value!r}: use a duration like 30m, 24h, 7d or a date like 2026-01-31"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def parse_statuses(value: str | None) -> list[dg.DagsterRunStatus]:
    if not value:
        return []
    statuses = []
    for word in (part.strip() for part in value.split(",")):
        name = STATUS_ALIASES.get(word.lower(), word.upper())
        try:
            statuses.append(dg.DagsterRunStatus(name))
        except ValueError:
            known = ", ".join(sorted(STATUS_ALIASES))
            raise UsageError(f"--status {word!r} is not a run status (one of: {known})") from None
    return statuses


def open_instance() -> dg.DagsterInstance:
    """The instance scripts/start uses: DAGSTER_HOME, else .dagster_home/<mode> (config.py)."""
    try:
        settings = load_settings()
    except SettingsError as error:
        raise UsageError(f"bad configuration: {error}") from None
    home = settings.dagster_home_dir
    if not home.is_dir():
        raise UsageError(
            f"no Dagster instance at {home} ({settings.effective_mode} mode): start the pipeline "
            "with scripts/start (it creates it), or set DAGSTER_HOME to the instance directory."
        )
    print(f"sync-log: instance {home} ({settings.effective_mode} mode)", file=sys.stderr)
    return dg.DagsterInstance.from_config(str(home))


def owner(run: dg.DagsterRun) -> str:
    """The job a run belongs to: its own, or the one whose assets a UI run materialized."""
    return run.tags.get(OWNER_TAG) or run.job_name


def job_names(instance: dg.DagsterInstance) -> list[str]:
    """Every job seen among the most recent runs (a UI run counts under its assets' job)."""
    records = instance.get_run_records(limit=SCAN_FOR_JOB_NAMES)
    return sorted({owner(record.dagster_run) for record in records})


def _records_of(
    instance: dg.DagsterInstance,
    job: str,
    statuses: list[dg.DagsterRunStatus],
    since: datetime | None,
    limit: int,
) -> list[Any]:
    """The job's own runs and the runs tagged as its own, newest first."""
    by_id = {}
    for runs_filter in (
        dg.RunsFilter(job_name=job, statuses=statuses, created_after=since),
        dg.RunsFilter(tags={OWNER_TAG: job}, statuses=statuses, created_after=since),
    ):
        for record in instance.get_run_records(runs_filter, limit=limit):
            if owner(record.dagster_run) == job:
                by_id[record.dagster_run.run_id] = record
    ordered = sorted(by_id.values(), key=lambda record: record.create_timestamp, reverse=True)
    return ordered[:limit]


def collect(
    instance: dg.DagsterInstance,
    jobs: Sequence[str],
    statuses: list[dg.DagsterRunStatus],
    since: datetime | None,
    limit: int,
) -> dict[str, list[RunSummary]]:
    """Up to ``limit`` runs per job, newest first; jobs without a matching run are left out."""
    now = datetime.now(timezone.utc)
    found: dict[str, list[RunSummary]] = {}
    for job in jobs:
        records = _records_of(instance, job, statuses, since, limit)
        if records:
            found[job] = [summarise(instance, record, now=now) for record in records]
    return found


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _count(summary: RunSummary, name: str) -> str:
    value = summary.numbers.get(name)
    return "-" if value is None else f"{int(value):,}"


ERROR_INDENT = " " * 6


def error_lines(text: str) -> list[str]:
    """The whole error, indented under its run: every bad line, every wallet and its cause."""
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return []
    head, rest = f"{ERROR_INDENT}error: {lines[0]}", lines[1:]
    return [head, *(f"{ERROR_INDENT}       {line}" for line in rest)]


def _align(rows: list[list[str]], left_columns: int = 2) -> list[str]:
    """Columns padded to a common width: text left-aligned, numbers right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if i < left_columns else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def render_text(found: dict[str, list[RunSummary]]) -> str:
    headers = ["STATUS", "STARTED (UTC)", "DURATION", *(h for h, _ in COUNT_COLUMNS), "RUN"]
    blocks = []
    for job, summaries in found.items():
        rows = [
            [
                s.status,
                (s.started_at or s.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                _duration(s.duration_s),
                *(_count(s, name) for _, name in COUNT_COLUMNS),
                s.run_id[:8],
            ]
            for s in summaries
        ]
        lines = _align([headers, *rows])
        failed = sum(1 for s in summaries if s.status == "FAILURE")
        out = [f"{job}  ({len(summaries)} run(s) shown, {failed} failed)", "  " + lines[0]]
        for summary, line in zip(summaries, lines[1:], strict=True):
            out.append("  " + line)
            if summary.error:
                out.extend(error_lines(summary.error))
        blocks.append("\n".join(out))
    return "\n\n".join(blocks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sync-log",
        description="Recent pipeline runs per job from the Dagster instance at $DAGSTER_HOME: "
        "status, start, duration, items fetched, new rows, quarantined, requests, 429s, "
        "and the error of failed runs.",
    )
    parser.add_argument("--job", action="append", help="only this job (repeatable)")
    parser.add_argument(
        "--status",
        help="only these statuses, comma-separated: success, failed, canceled, "
        "running, queued (or Dagster's names)",
    )
    parser.add_argument("--limit", type=int, default=10, help="runs per job (default 10)")
    parser.add_argument("--since", help="only runs created since: 30m, 24h, 7d, or a date")
    parser.add_argument("--json", action="store_true", help="one JSON array of runs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.limit < 1:
            raise UsageError("--limit must be at least 1")
        now = datetime.now(timezone.utc)
        since = parse_since(args.since, now) if args.since else None
        statuses = parse_statuses(args.status)
        instance = open_instance()
    except UsageError as error:
        print(f"sync-log: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a dagster.yaml that does not load, a database that is down
        print(
            f"sync-log: cannot open the Dagster instance at $DAGSTER_HOME: "
            f"{type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return 1
    with instance:
        jobs = args.job or job_names(instance)
        found = collect(instance, jobs, statuses, since, args.limit)
    if args.json:
        runs = [summary.as_json() for summaries in found.values() for summary in summaries]
        print(json.dumps(runs, indent=2))
    elif not found:
        print("no runs match", file=sys.stderr)
    else:
        print(render_text(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
