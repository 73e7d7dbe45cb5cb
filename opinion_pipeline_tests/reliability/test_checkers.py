"""The suite's own checkers catch what they are meant to catch (so a pass means something).

Every reliability test ends in one of these checks; here each is shown a broken state (a row
deleted without an archive, a row archived twice, an unexplained missing fill, a forged
markdown row or live link) and must object.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

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
