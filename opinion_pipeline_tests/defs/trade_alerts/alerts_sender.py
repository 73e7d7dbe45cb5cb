"""One trade-alert run in a process of its own, optionally SIGKILLed after its first send.

``python -m opinion_pipeline_tests.defs.trade_alerts.alerts_sender WAREHOUSE URL OWNER [HOOK]``

HOOK ``kill-after-send``: the ledger's ``finish`` (the write after a send) is replaced by a
SIGKILL of the process itself, so the channel has the alert and the ledger still says "pending".
HOOK ``kill-before-send``: the send itself is, so the ledger says "pending" and nothing was sent.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from opinion_pipeline.automation.alerts import AlertSettings
from opinion_pipeline.defs.trade_alerts import dispatch, ledger
from opinion_pipeline.defs.trade_alerts.dispatch import deliver_trade_alerts
from opinion_pipeline.defs.trade_alerts.events import Thresholds
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse

MODULE = "opinion_pipeline_tests.defs.trade_alerts.alerts_sender"


def _killed(*args: Any, **kwargs: Any) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0  # never reached


def main(warehouse_path: str, url: str, owner: str, hook: str | None) -> None:
    kill = hook is not None
    if hook == "kill-after-send":
        ledger.finish = _killed  # type: ignore[assignment]
    elif hook == "kill-before-send":
        dispatch.deliver = _killed  # type: ignore[assignment]
    elif hook is not None:
        sys.exit(f"unknown hook {hook!r}")
    run = deliver_trade_alerts(
        DuckDBWarehouse(path=warehouse_path),
        AlertSettings.from_urls([url]),
        Thresholds(trade_usd=10_000, position_usd=10_000),
        owner=owner,
    )
    if kill:
        sys.exit("the sender was not killed")  # reached only if no alert was sent
    print(f"delivered={run.counts['delivered']} failed={run.failed}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
