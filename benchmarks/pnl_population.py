"""The realistic trades population of the PnL benchmark (``--population realistic``).

The whale_stats generator (``uniform``) gives ~1.27 trades per position and a market holds only
buys or only sells, so no open position is partly sold (the cost basis's long division never
runs) and no position is held into a resolution (skill has nothing decided). Real whales trade
the same position many times, buy and trim it, and hold part of their book to resolution.
So here each position gets 5-30 fills (17.5 on average: 10 M trades are ~570 k positions) of
one of three shapes, the same in open and resolved markets:

* ``held`` (60 %): buys (some of them SPLITs) with a third of the fills selling (some MERGEs)
  half a buy's size, so shares stay held: open and partly sold in an open market (the division
  runs), decided in a resolved one, on the winning side more or less often by whale (skill);
* ``closed`` (25 %): buy / sell pairs of the same size, nothing held at the end;
* ``bought`` (15 %): buys only (held = bought, the basis is the cost).

Generated inside DuckDB (range() and unnest(), no Python rows). Markets are the benchmark's:
even ids Resolved (Yes won when id % 4 = 0, else No), odd ids open.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import common
from benchmarks.whale_stats import _WHALES_SQL

MEAN_FILLS = 17.5  # 5 + (p * 7) % 26 averages 17.5 over every 26 positions

# One row per fill: position p, fill k of n. Shape, whale, market and side come from p.
_FILLS_SQL = """
SELECT p, k, n, shape, whale, market,
       CASE WHEN market % 2 = 1 THEN 1 + hash(p * 5) % 2
            WHEN hash(p * 11) % 100 < 30 + whale % 41
                THEN CASE WHEN market % 4 = 0 THEN 1 ELSE 2 END
            ELSE CASE WHEN market % 4 = 0 THEN 2 ELSE 1 END END AS outcome_side,
       CASE shape WHEN 'closed' THEN k % 2 = 1 WHEN 'held' THEN k % 3 = 2 ELSE false END
           AS disposal,
       CAST(1 + hash(p * 31 + k) % 5000 AS DECIMAL(10,0)) * 0.01 AS size
FROM (
    SELECT p, unnest(range(n)) AS k, n, shape, whale, market
    FROM (
        SELECT p, 5 + (p * 7) % 26 AS n, hash(p * 3) % $whales AS whale,
               1 + hash(p * 13) % 2000 AS market,
               CASE WHEN p % 20 < 12 THEN 'held' WHEN p % 20 < 17 THEN 'closed' ELSE 'bought' END
                   AS shape
        FROM range($positions) t(p)
    )
)
WHERE NOT (shape = 'closed' AND n % 2 = 1 AND k = n - 1)  -- every sale pairs with its buy
"""

# A closed position sells what its previous fill bought; a held one sells half of it.
_TRADES_SQL = f"""
INSERT INTO trades BY NAME
SELECT substr(sha256('t' || (p * 32 + k)), 1, 32) AS trade_key,
       '0x' || substr(sha256('w' || whale), 1, 40) AS wallet,
       '0x' || sha256('x' || (p * 32 + k)) AS tx_hash,
       market AS market_id, market AS root_market_id, 'market ' || market AS market_title,
       'market ' || market AS root_market_title,
       CASE WHEN disposal THEN CASE WHEN k % 7 = 5 THEN 'MERGE' ELSE 'SELL' END
            ELSE CASE WHEN k % 7 = 3 THEN 'SPLIT' ELSE 'BUY' END END AS side,
       CASE WHEN outcome_side = 1 THEN 'YES' ELSE 'NO' END AS outcome, outcome_side,
       CAST(price AS DECIMAL(38,18)) AS price, CAST(shares AS DECIMAL(38,18)) AS shares,
       CAST(shares * price AS DECIMAL(38,18)) AS amount,
       CAST(shares * price * 0.002 AS DECIMAL(38,18)) AS fee,
       CAST(0 AS DECIMAL(38,18)) AS profit,
       '0x55d398326f99059ff775485246999027b3197955' AS quote_token,
       CAST(1 AS DECIMAL(38,18)) AS quote_token_usd_price,
       CAST(shares * price AS DECIMAL(38,18)) AS usd_value, 2 AS status, '56' AS chain_id,
       to_timestamp($start - 120 * 86400 + hash(p * 17) % (60 * 86400) + k * 3600 * (1 + p % 48))
           AS created_at,
       0 AS occurrence, true AS market_known, now() AS ingested_at, 'bench' AS run_id
FROM (
    SELECT *, CAST(1 + hash(p * 37 + k) % 999 AS DECIMAL(10,0)) * 0.001 AS price,
           CASE WHEN NOT disposal THEN size
                WHEN shape = 'closed'
                    THEN CAST(1 + hash(p * 31 + k - 1) % 5000 AS DECIMAL(10,0)) * 0.01
                ELSE CAST(1 + hash(p * 31 + k - 1) % 5000 AS DECIMAL(10,0)) * 0.005 END
               AS shares
    FROM ({_FILLS_SQL})
)
"""


def build_trades(path: Path, trades: int, whales: int) -> None:
    """Whales and about ``trades`` trades (whole positions) of the realistic population."""
    positions = max(1, round(trades / MEAN_FILLS))
    params = {
        "whales": whales,
        "positions": positions,
        "start": common.FROZEN_START,
    }
    with common.warehouse(path).transaction() as conn:
        conn.execute(_WHALES_SQL, {"whales": whales})
        conn.execute(_TRADES_SQL, params)
