"""Benchmarks, one command each (`python -m benchmarks.<name>`); figures in BENCHMARKS.md."""
