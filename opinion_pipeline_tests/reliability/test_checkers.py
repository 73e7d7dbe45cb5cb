"""The suite's own checkers catch what they are meant to catch (so a pass means something).

Every reliability test ends in one of these checks; here each is shown a broken state (a row
deleted without an archive, a row archived twice, an unexplained missing fill, a ledger that
claims more than the tables and the truth hold, a forged markdown row or live link) and must
object.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from opinion_pipeline.defs.whale_trades.coverage import account_wallets
from opinion_pipeline.defs.whale_trades.store import insert_trades
from opinion_pipeline.defs.whale_trades.validate import prepare_trades
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.factories import trade_row, wallet
from opinion_pipeline_tests.reliability.completeness import prove
from opinion_pipeline_tests.reliability.crash import archive_violations
from opinion_pipeline_tests.reliability.helpers import raw_explains_fill
from opinion_pipeline_tests.reliability.markdown_check import problems

pytestmark = pytest.mark.unit

FILL = ("0xw", "0xabc", 7, "BUY", Decimal("0.5"), Decimal("10"), Decimal("5"), 1_700_000_000)
RAW = {
    "txHash": "0xABC", "marketId": 7, "side": "Buy", "price": "0.50", "shares": "10",
    "amount": "5.0", "createdAt": 1_700_000_000,
}  # fmt: skip


def _state(table: Counter, files: dict[str, Counter]) -> dict:
    return {
        "table_keys": {"trades": table, "whale_activity": Counter()},
        "files": {"trades": files, "whale_activity": {}},
        "missing_files": [],
        "bad_counts": [],
    }


def test_archive_checker_objects_to_loss_doubles_and_overlap() -> None:
    ever = {"trades": {"a", "b", "c"}, "whale_activity": set()}
    assert archive_violations(_state(Counter("ab"), {"f1": Counter("c")}), ever) == []
    lost = archive_violations(_state(Counter("a"), {"f1": Counter("c")}), ever)
    twice = archive_violations(
        _state(Counter("ab"), {"f1": Counter("c"), "f2": Counter("c")}), ever
    )
    both = archive_violations(_state(Counter("abc"), {"f1": Counter("c")}), ever)
    assert ["deleted without being archived" in p for p in lost] == [True]
    assert ["archived twice" in p for p in twice] == [True]
    assert ["both archived and still in the table" in p for p in both] == [True]


def test_a_quarantined_row_explains_only_its_own_fill() -> None:
    assert raw_explains_fill(RAW, FILL)
    assert raw_explains_fill({**RAW, "amount": "-5"}, FILL), "one corrupted field"
    assert not raw_explains_fill({**RAW, "amount": "-5", "createdAt": "x"}, FILL)
    assert not raw_explains_fill({**RAW, "txHash": "0xdef", "marketId": 8}, FILL)


def test_markdown_checker_objects_to_forged_rows_links_and_tags() -> None:
    good = "| a | b |\n|---|---|\n| 1 | 2 |"
    assert problems(good, columns=2, rows=1) == []
    assert problems(good + "\n| forged | row |", columns=2, rows=1)
    assert problems("| a | b |\n|---|---|\n| x | y | z |", columns=2, rows=1)
    assert problems("| a | b |\n|---|---|\n| [x](javascript:alert(1)) | **b** |", 2, 1)
    assert problems("| a | b |\n|---|---|\n| <b>x</b> | y |", columns=2, rows=1)


class _Truth:
    """The two simulator calls ``prove`` makes, over a fixed truth of one wallet."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def truth_trades(self) -> list[dict[str, Any]]:
        return self.rows

    def wallets(self) -> list[dict[str, Any]]:
        return [{"address": wallet(1)}]


def _ledger_after_one_read(path: Path, spoil: dict[str, Any] | None) -> tuple[Any, Any]:
    """Three fills read once (the newest spoiled with ``spoil``), written and accounted."""
    truth = [trade_row(createdAt=1_700_000_000 + n, walletAddress=wallet(1)) for n in (0, 60, 120)]
    read = [dict(row) for row in truth]
    if spoil:
        read[-1].update(spoil)
    warehouse = DuckDBWarehouse(path=str(path))
    batch = prepare_trades(wallet(1), read)
    with warehouse.session() as session:
        insert_trades(session, batch.rows, run_id="t", alert_usd=1e12)
        session.quarantine("trade", [(wallet(1), r) for r in batch.rejects], run_id="t")
        account_wallets(session, {wallet(1): len(truth)})
    return _Truth(truth), warehouse


@pytest.mark.parametrize("spoil", [None, {"marketId": "abc"}, {"createdAt": "yesterday"}])
def test_the_completeness_proof_holds_for_a_true_ledger(tmp_path: Path, spoil) -> None:
    truth, warehouse = _ledger_after_one_read(tmp_path / "w.duckdb", spoil)
    with warehouse.connection(read_only=True) as conn:
        proof = prove(truth, conn)  # type: ignore[arg-type]
        more = _Truth([*truth.rows, trade_row(createdAt=1_700_000_500, walletAddress=wallet(1))])
        unread = prove(more, conn)  # type: ignore[arg-type]  # a fill the venue holds, never read
    assert (proof.wallets, proof.proven) == (1, 1), proof.not_proven
    assert unread.proven == 0


@pytest.mark.parametrize(
    "lie",
    [
        "DELETE FROM trades WHERE epoch(created_at) = 1700000000",  # a trade gone, ledger unaware
        "UPDATE trade_coverage SET complete_through = complete_through - INTERVAL 1 MINUTE",
        "UPDATE trade_coverage SET gap = 1",
    ],
)
def test_the_completeness_proof_objects_to_a_ledger_that_is_wrong(tmp_path: Path, lie) -> None:
    truth, warehouse = _ledger_after_one_read(tmp_path / "w.duckdb", None)
    with warehouse.connection() as conn:
        conn.execute(lie)
        assert prove(truth, conn).proven == 0  # type: ignore[arg-type]
