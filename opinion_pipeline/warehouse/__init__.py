"""DuckDB tables and the SQL that reads and writes them, one module per table family."""
