"""pandera validation of every API payload before anything is written."""

from opinion_pipeline.validation.frames import PayloadUnusableError, Reject, summarise_rejects
from opinion_pipeline.validation.markets import MarketBatch, prepare_markets
from opinion_pipeline.validation.trades import TradeBatch, prepare_trade_fetches, prepare_trades

__all__ = [
    "MarketBatch",
    "PayloadUnusableError",
    "Reject",
    "TradeBatch",
    "prepare_markets",
    "prepare_trade_fetches",
    "prepare_trades",
    "summarise_rejects",
]
