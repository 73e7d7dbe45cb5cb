"""Safe proxy addresses (opinion-api.md §3.3, §3.8): a share of the ordinary traders trade
through a Safe smart-contract wallet that their own wallet (EOA) owns.

The UNOFFICIAL web-app routes (leaderboard, holders) show such a trader by the proxy address,
while the trades and positions routes answer for the EOA only: asked for the proxy they return
nothing, as reported live. Which traders use a proxy, and its address, are a function of the
seed, the trader's address and the ``safe_proxy_rate`` fault (0 by default: off), so a test can
compute them without asking the simulator. Tracked wallets never use one.
"""

from __future__ import annotations

from typing import Any

from opinion_pipeline.simulator.util import digest, hex_id
from opinion_pipeline.simulator.wallets import TRADER_PROFILES, Wallet


def safe_proxy(seed: int, wallet: Wallet, rate: float) -> str | None:
    """The Safe proxy the trader trades through, or None (its EOA is what the web app shows)."""
    if rate <= 0 or wallet.profile not in TRADER_PROFILES:
        return None
    if int(digest(seed, "safe", wallet.address)[:8], 16) / 2**32 >= rate:
        return None
    return hex_id(40, seed, "safe-proxy", wallet.address)


def show_proxies(rows: list[Any], seed: int, by_address: dict[str, Wallet], rate: float) -> int:
    """Replace walletAddress by the Safe proxy on rows of proxy users; returns how many."""
    shown = 0
    for row in rows:
        wallet = (
            by_address.get(str(row.get("walletAddress", ""))) if isinstance(row, dict) else None
        )
        proxy = safe_proxy(seed, wallet, rate) if wallet else None
        if proxy:
            row["walletAddress"] = proxy
            shown += 1
    return shown
