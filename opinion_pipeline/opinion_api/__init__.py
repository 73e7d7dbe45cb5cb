"""The Opinion (opinion.trade) OpenAPI client: a Dagster resource usable as a plain object."""

from opinion_pipeline.opinion_api.client import PRODUCTION_BASE_URL, OpinionAPI
from opinion_pipeline.opinion_api.errors import (
    MISSING_KEY_MESSAGE,
    MissingAPIKeyError,
    OpinionAPIError,
    OpinionApplicationError,
    OpinionAuthError,
    OpinionBadRequestError,
    OpinionConfigError,
    OpinionHTTPError,
    OpinionNotFoundError,
    OpinionPayloadError,
    OpinionRateLimitedError,
    OpinionRegionRefusedError,
    OpinionRetriesExhaustedError,
    OpinionTimeoutError,
)
from opinion_pipeline.opinion_api.paging import WalletTrades
from opinion_pipeline.opinion_api.rate_limiter import RateLimiter, default_limiter_dir

__all__ = [
    "MISSING_KEY_MESSAGE",
    "PRODUCTION_BASE_URL",
    "MissingAPIKeyError",
    "OpinionAPI",
    "OpinionAPIError",
    "OpinionApplicationError",
    "OpinionAuthError",
    "OpinionBadRequestError",
    "OpinionConfigError",
    "OpinionHTTPError",
    "OpinionNotFoundError",
    "OpinionPayloadError",
    "OpinionRateLimitedError",
    "OpinionRegionRefusedError",
    "OpinionRetriesExhaustedError",
    "OpinionTimeoutError",
    "RateLimiter",
    "WalletTrades",
    "default_limiter_dir",
]
