"""The sync logic behind the ingest assets, free of Dagster so tests and benchmarks call it too."""
