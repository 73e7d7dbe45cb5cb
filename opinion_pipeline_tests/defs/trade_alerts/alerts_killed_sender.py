"""A trade-alert sender that is SIGKILLed after its first send, before the ledger records it.

Run as ``python -m opinion_pipeline_tests.defs.trade_alerts.alerts_killed_sender WAREHOUSE URL``.
The hook is the ledger's ``finish`` (the write after a send): replaced here by a SIGKILL of the
process itself, so the channel has the alert and the ledger still says "pending".
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from opinion_pipeline.automation.alerts import AlertSettings
from opinion_pipeline.defs.trade_alerts import ledger
from opinion_pipeline.defs.trade_alerts.dispatch import deliver_trade_alerts
from opinion_pipeline.defs.trade_alerts.events import Thresholds
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse


def _killed(*args: Any, **kwargs: Any) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0  # never reached


def main(warehouse_path: str, url: str) -> None:
    ledger.finish = _killed  # type: ignore[assignment]
    deliver_trade_alerts(
        DuckDBWarehouse(path=warehouse_path),
        AlertSettings.from_urls([url]),
        Thresholds(trade_usd=10_000, position_usd=10_000),
        owner="killed-sender",
    )
    sys.exit("the sender was not killed")  # reached only if no alert was sent


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
