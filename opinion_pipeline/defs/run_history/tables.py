"""The run-history archive: one Parquet row per pruned Dagster run (not a warehouse table)."""

from opinion_pipeline.run_log.summary import SYNC_NUMBERS
from opinion_pipeline.tables import TIMESTAMP, Column, Table

_UTC = "(UTC)"
_SYNC_NUMBER_WORDS = {
    "items_fetched": "Rows fetched from the API by the run's syncs.",
    "new_rows": "Rows the run's syncs inserted.",
    "duplicates_skipped": "Rows already stored, skipped.",
    "quarantined": "Rows that failed validation.",
    "requests": "API requests made.",
    "retries": "API requests retried.",
    "rate_limited_429s": "HTTP 429 answers received.",
}

# Every file is written with exactly these types, even a batch in which a column is all NULL.
RUN_HISTORY = Table(
    name="run_history",
    description="Parquet under OPINION_ARCHIVE_DIR/runs, one row per pruned Dagster run.",
    stored=False,
    columns=(
        Column("run_id", "VARCHAR", "Dagster run id."),
        Column("job_name", "VARCHAR", "Job the run belonged to."),
        Column("status", "VARCHAR", "Final run status (SUCCESS, FAILURE, CANCELED)."),
        Column("created_at", TIMESTAMP, f"When the run was created {_UTC}."),
        Column("started_at", TIMESTAMP, f"When the run started {_UTC}."),
        Column("ended_at", TIMESTAMP, f"When the run ended {_UTC}."),
        Column("duration_s", "DOUBLE", "Seconds from start to end."),
        Column("schedule_name", "VARCHAR", "Schedule that launched the run, if any."),
        Column("sensor_name", "VARCHAR", "Sensor that launched the run, if any."),
        Column("tags_json", "VARCHAR", "The run's tags of interest, as JSON."),
        *(Column(name, "BIGINT", _SYNC_NUMBER_WORDS[name]) for name in SYNC_NUMBERS),
        Column("error", "VARCHAR", "The run's failure message, if it failed."),
        Column("archived_at", TIMESTAMP, f"When the run was archived {_UTC}."),
    ),
)
