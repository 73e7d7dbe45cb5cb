"""Tests that move the simulator's clock: page shifts, watermarks over new trades, 20/21 rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.opinion_api.helpers import (
    api_form,
    counters_for,
    distinctive_key,
    make_api,
)

WORLD = {"seed": 7, "markets": 30, "wallets": 16, "history_days": 2, "clock_speed": 0.0}


@pytest.fixture
def key() -> str:
    return distinctive_key()


@pytest.fixture
def sim(key: str) -> Iterator[SimulatorProcess]:
    with SimulatorProcess(key, rate_limit=0, **WORLD) as process:
        yield process


@pytest.fixture
def api(sim: SimulatorProcess, key: str, tmp_path: Path) -> Iterator[OpinionAPI]:
    client = make_api(sim, key, tmp_path)
    yield client
    client.close()


def heaviest(sim: SimulatorProcess) -> str:
    return max(sim.wallets(), key=lambda w: len(sim.truth_trades(w["address"])))["address"]


def grow(sim: SimulatorProcess, wallet: str, at_least: int = 1, step: float = 300) -> int:
    """Advance the clock until ``wallet`` has at least ``at_least`` new trades; return how many."""
    before = len(sim.truth_trades(wallet))
    while (now := len(sim.truth_trades(wallet))) < before + at_least:
        sim.advance(step)
    return now - before


def test_page_shift_no_duplicates_nothing_missed(sim: SimulatorProcess, api: OpinionAPI) -> None:
    wallet = heaviest(sim)
    before = api_form(sim.truth_trades(wallet))
    landed: dict[int, int] = {}

    def trades_land(page: int, total: int | None, rows: list) -> None:
        if page in (2, 5) and page not in landed:
            landed[page] = grow(sim, wallet)

    result = api.fetch_wallet_trades(wallet, on_page=trades_land)
    after = api_form(sim.truth_trades(wallet))
    growth = sum(landed.values())
    assert len(after) == len(before) + growth and growth > 0
    assert result.shift_duplicates_dropped == growth and result.restarts == 0
    if growth < 20:  # the head catch-up re-read page 1: the result is the final truth
        assert result.rows == after and not result.notes
    else:
        assert result.rows == before and result.notes
    assert result.reached_end and result.pages == -(-len(after) // 20) + 1  # + the catch-up


def test_page_shift_with_watermark(sim: SimulatorProcess, api: OpinionAPI) -> None:
    wallet = heaviest(sim)
    stored = api_form(sim.truth_trades(wallet))
    grow(sim, wallet, at_least=25, step=600)  # a backlog of more than one page
    backlog = api_form(sim.truth_trades(wallet))
    watermark = stored[0]["createdAt"]
    landed: list[int] = []

    def trades_land(page: int, total: int | None, rows: list) -> None:
        if page == 1 and not landed:
            landed.append(grow(sim, wallet))

    result = api.fetch_wallet_trades(wallet, watermark=watermark, on_page=trades_land)
    final = api_form(sim.truth_trades(wallet))
    assert result.reached_watermark and result.shift_duplicates_dropped == landed[0]
    expected = [row for row in final if row["createdAt"] >= watermark]
    assert result.rows[: len(expected)] == expected  # new trades and the watermark's own
    assert len(backlog) < len(final)


def test_watermark_returns_new_trades_and_equal_timestamps(
    sim: SimulatorProcess, api: OpinionAPI, key: str
) -> None:
    wallet = heaviest(sim)
    first = api.fetch_wallet_trades(wallet)
    watermark = first.rows[0]["createdAt"]
    new = grow(sim, wallet, at_least=3)
    sim.reset_counters()
    result = api.fetch_wallet_trades(wallet, watermark=watermark)
    truth = api_form(sim.truth_trades(wallet))
    expected = [row for row in truth if row["createdAt"] >= watermark]
    assert len(expected) >= new + 1
    assert result.rows[: len(expected)] == expected
    assert result.pages == counters_for(sim, key)["requests"] == len(expected) // 20 + 1


def test_exactly_20_and_21_trades(sim: SimulatorProcess, api: OpinionAPI, key: str) -> None:
    """Find wallets holding exactly 20 and 21 trades by moving the clock, then page them."""
    light = [w["address"] for w in sim.wallets() if w["profile"] != "heavy"]
    pending = {20: 1, 21: 2}  # trades -> pages expected
    for _ in range(600):
        counts = {address: len(sim.truth_trades(address)) for address in light}
        for target in [t for t in pending if t in counts.values()]:
            wallet = next(a for a, c in counts.items() if c == target)
            sim.reset_counters()
            result = api.fetch_wallet_trades(wallet)
            assert result.rows == api_form(sim.truth_trades(wallet))
            assert len(result.rows) == target and result.reached_end
            assert result.pages == counters_for(sim, key)["requests"] == pending.pop(target)
        if not pending:
            return
        light = [a for a in light if counts[a] < max(pending)]
        sim.advance(900)
    pytest.fail(f"no wallet reached exactly {sorted(pending)} trades")
