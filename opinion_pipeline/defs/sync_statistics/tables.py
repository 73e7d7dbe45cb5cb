"""The by_job table the sync_statistics asset shows (metadata, not a warehouse table)."""

from opinion_pipeline.tables import Column, Table

BY_JOB = Table(
    name="sync_statistics",
    description="Per job over the window: runs, success rate, durations, requests, 429s.",
    stored=False,
    columns=(
        Column("job_name", "VARCHAR", "Job the row is about."),
        Column("runs", "BIGINT", "Runs created in the window."),
        Column("succeeded", "BIGINT", "Runs that succeeded."),
        Column("failed", "BIGINT", "Runs that failed."),
        Column("canceled", "BIGINT", "Runs canceled."),
        Column("in_progress", "BIGINT", "Runs still queued or running."),
        Column("p50_s", "DOUBLE", "Median run duration in seconds."),
        Column("p95_s", "DOUBLE", "95th percentile run duration in seconds."),
        Column("requests", "BIGINT", "API requests made by the job's syncs."),
        Column("rate_limited_429s", "BIGINT", "HTTP 429 answers received."),
        Column("new_rows", "BIGINT", "Rows inserted by the job's syncs."),
        Column("quarantined", "BIGINT", "Rows that failed validation."),
        Column("last_failure", "VARCHAR", "Message of the job's last failed run in the window."),
    ),
)
