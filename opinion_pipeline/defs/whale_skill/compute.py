"""Skill scores of every tracked whale, recomputed in full from whale_pnl's decided counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from opinion_pipeline.defs.whale_skill.stats import fit_beta_prior, rank_by_lower_bound, skill
from opinion_pipeline.defs.whale_skill.tables import WHALE_SKILL
from opinion_pipeline.warehouse.port import Warehouse


@dataclass(frozen=True)
class SkillRun:
    whales: int
    prior: tuple[float, float]
    withheld: int
    top: list[tuple]  # (rank, label, wallet, won, decided, raw, shrunk, low, high)


def recompute_skill(
    warehouse: Warehouse, as_of: datetime, *, min_decided: int, top: int = 10
) -> SkillRun:
    with warehouse.session() as session:
        rows = session.query(
            "SELECT wallet, label, won_positions, decided_positions FROM whale_pnl ORDER BY wallet"
        )
        prior = fit_beta_prior((int(won), int(decided)) for _, _, won, decided in rows)
        labels = {wallet: label for wallet, label, _, _ in rows}
        scored = [
            (wallet, skill(int(won), int(decided), prior, min_decided=min_decided))
            for wallet, _, won, decided in rows
        ]
        ranked = rank_by_lower_bound(scored)
        frame = pd.DataFrame(
            [
                (
                    wallet,
                    labels[wallet],
                    s.decided,
                    s.won,
                    s.win_rate,
                    s.withheld_reason,
                    s.shrunk,
                    s.low,
                    s.high,
                    rank,
                    prior[0],
                    prior[1],
                    int(as_of.timestamp()),
                )
                for rank, wallet, s in ranked
            ],
            columns=WHALE_SKILL.column_names,
        )
        session.execute("DELETE FROM whale_skill")
        if not frame.empty:
            session.upsert(WHALE_SKILL, frame)
    best = [
        (rank, labels[wallet], wallet, s.won, s.decided, s.win_rate, s.shrunk, s.low, s.high)
        for rank, wallet, s in ranked[:top]
    ]
    withheld = sum(1 for _, s in scored if s.win_rate is None)
    return SkillRun(whales=len(scored), prior=prior, withheld=withheld, top=best)
