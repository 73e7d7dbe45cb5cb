"""Tests of the Dagster UI as users use it: catalog, GraphQL API, headless browser."""
