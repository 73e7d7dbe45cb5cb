"""The whale registry: which wallets the pipeline tracks."""

from opinion_pipeline.whales.registry import Whale, WhaleRegistryError, load_whales, parse_whales

__all__ = ["Whale", "WhaleRegistryError", "load_whales", "parse_whales"]
