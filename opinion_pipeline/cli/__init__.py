"""Console scripts (declared in pyproject.toml): ``sync-log`` and ``warehouse-query``."""
