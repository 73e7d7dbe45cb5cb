"""Operations: the pipeline's own upkeep (health, whale status, sync statistics, run history).

The logic lives here as plain functions over a DuckDB connection or a Dagster instance, so it
can be tested without a job; ``opinion_pipeline.assets.operations`` wraps it in assets.
"""
