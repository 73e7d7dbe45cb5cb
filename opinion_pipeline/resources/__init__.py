"""Dagster resources of the pipeline."""

from opinion_pipeline.opinion_api import OpinionAPI

__all__ = ["OpinionAPI"]
