"""The wallet-trades walk against an in-memory feed: watermark, page shifts, twins, restarts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opinion_pipeline.opinion_api import errors
from opinion_pipeline.opinion_api.paging import page_rows, walk_wallet_trades

pytestmark = pytest.mark.unit

LIMIT = 20


def trade(ts: int, n: int = 0, **extra) -> dict:
    return {"txHash": f"0x{ts:08x}{n:04x}", "createdAt": ts, "amount": "1.5", **extra}


class Feed:
    """Newest-first list with offset paging; ``before_read(page)`` can mutate it."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows
        self.reads: list[int] = []
        self.before_read: Callable[[int], None] | None = None

    def read(self, page: int) -> tuple[int, list[dict]]:
        if self.before_read:
            self.before_read(page)
        self.reads.append(page)
        start = (page - 1) * LIMIT
        return len(self.rows), [dict(r) for r in self.rows[start : start + LIMIT]]

    def push(self, *new: dict) -> None:
        self.rows[:0] = list(new)


def history(n: int, start: int = 10_000) -> list[dict]:
    return [trade(start - i, i) for i in range(n)]


@pytest.mark.parametrize(
    ("n", "pages"), [(0, 1), (1, 1), (19, 1), (20, 1), (21, 2), (40, 2), (41, 3)]
)
def test_full_history_page_edges(n: int, pages: int) -> None:
    feed = Feed(history(n))
    out = walk_wallet_trades("0xw", feed.read, page_limit=LIMIT)
    assert out.rows == feed.rows and out.pages == pages and out.reached_end
    assert out.total == n and out.shift_duplicates_dropped == 0


def test_watermark_stops_at_first_page_reaching_older_trades() -> None:
    feed = Feed(history(100))  # createdAt 10000 down to 9901
    out = walk_wallet_trades("0xw", feed.read, page_limit=LIMIT, watermark=9_990)
    # page 1 holds 10000..9981 (oldest 9981 < 9990): one request
    assert out.pages == 1 and out.reached_watermark and not out.reached_end
    assert out.rows == feed.rows[:20]


def test_watermark_equal_timestamps_are_kept_across_pages() -> None:
    rows = [trade(500 - i, i) for i in range(19)] + [trade(400, k) for k in range(5)]
    rows += history(10, start=300)
    feed = Feed(rows)
    # page 1 ends with one trade at 400 (== watermark, not older): the walk must go on
    out = walk_wallet_trades("0xw", feed.read, page_limit=LIMIT, watermark=400)
    assert out.pages == 2 and out.reached_watermark
    assert sum(1 for r in out.rows if r["createdAt"] == 400) == 5


def test_nothing_new_costs_one_request() -> None:
    feed = Feed(history(500))
    out = walk_wallet_trades("0xw", feed.read, page_limit=LIMIT, watermark=10_000)
    assert out.pages == 1 and feed.reads == [1]


def test_max_pages() -> None:
    feed = Feed(history(100))
    out = walk_wallet_trades("0xw", feed.read, page_limit=LIMIT, max_pages=2)
    assert out.pages == 2 and len(out.rows) == 40 and not out.reached_end


def test_page_shift_drops_repeats_and_catches_up_head() -> None:
    feed = Feed(history(70))
    original = list(feed.rows)
    new = [trade(20_000, 1), trade(20_000, 2), trade(20_001, 3)][::-1]

    def land(page: int) -> None:
        if page == 2 and len(feed.reads) == 1:
            feed.push(*new[:2])
        if page == 3 and len(feed.reads) == 2:
            feed.push(new[2])

    feed.before_read = land
    out = walk_wallet_trades("0xw", feed.read, page_limit=LIMIT)
    assert out.shift_duplicates_dropped == 3 and out.restarts == 0
    assert out.rows == feed.rows  # the final state: nothing missed, nothing twice
    assert out.rows[3:] == original
    assert feed.reads == [1, 2, 3, 4, 1]


def test_twins_are_not_collapsed_without_a_shift() -> None:
    twin = trade(9_000, 7)
    rows = [*history(19), dict(twin), dict(twin), dict(twin), *history(5, start=8_000)]
    feed = Feed(rows)
    out = walk_wallet_trades("0xw", feed.read, page_limit=LIMIT)
    assert out.rows == rows and sum(r == twin for r in out.rows) == 3


def test_twins_across_a_shift_keep_the_right_count() -> None:
    twin = trade(9_000, 7)
    rows = history(18) + [dict(twin)] * 4 + history(5, start=8_000)
    feed = Feed(rows)
    feed.before_read = lambda page: feed.push(trade(30_000)) if page == 2 else None
    out = walk_wallet_trades("0xw", feed.read, page_limit=LIMIT)
    assert out.shift_duplicates_dropped == 1
    assert sum(r == twin for r in out.rows) == 4 and out.rows == feed.rows


def test_total_shrinking_restarts_from_page_one() -> None:
    feed = Feed(history(50))
    state = {"done": False}

    def drop_one(page: int) -> None:
        if page == 2 and not state["done"]:
            state["done"] = True
            del feed.rows[5]

    feed.before_read = drop_one
    out = walk_wallet_trades("0xw", feed.read, page_limit=LIMIT)
    assert out.restarts == 1 and out.rows == feed.rows and not out.notes


def test_mismatching_repeats_restart_then_proceed_by_count_with_note() -> None:
    feed = Feed(history(45))

    def insert_in_middle(page: int) -> None:
        if page == 2:  # grows total, but not at the head: repeats never match
            feed.rows.insert(30, trade(1, 99))

    feed.before_read = insert_in_middle
    out = walk_wallet_trades("0xw", feed.read, page_limit=LIMIT, max_restarts=2)
    assert out.restarts == 2
    assert out.notes and "by count" in out.notes[0]


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(0, 90),
    landings=st.lists(st.tuples(st.integers(2, 6), st.integers(1, 25)), max_size=3),
    twin_every=st.integers(1, 5),
)
def test_shifts_never_lose_or_duplicate(n: int, landings: list, twin_every: int) -> None:
    rows = [trade(10_000 - i // twin_every) for i in range(n)]  # runs of identical twins
    feed = Feed(rows)
    plan = dict(landings)
    fresh = iter(range(10**6))

    def land(page: int) -> None:
        count = plan.pop(page, 0)
        feed.push(*[trade(50_000 + next(fresh)) for _ in range(count)][::-1])

    feed.before_read = land
    out = walk_wallet_trades("0xw", feed.read, page_limit=LIMIT)
    assert out.reached_end
    if not out.notes:
        assert out.rows == feed.rows
    else:  # head catch-up declined (too many new rows): the old history is intact
        assert out.rows == feed.rows[len(feed.rows) - len(out.rows) :]


def test_page_rows_shapes() -> None:
    assert page_rows({"total": 0, "list": None}, "r") == (0, [])
    assert page_rows(None, "r") == (0, [])
    assert page_rows({"total": "3", "list": [{}]}, "r") == (3, [{}])
    assert page_rows({"list": []}, "r") == (None, [])
    for bad in ([], {"list": "x"}, {"list": [1]}, {"total": "many", "list": []}):
        with pytest.raises(errors.OpinionPayloadError):
            page_rows(bad, "GET /route")
