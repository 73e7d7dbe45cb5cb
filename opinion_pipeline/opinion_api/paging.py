"""Page parsing and the wallet-trades walk (watermark stop, page-shift repair).

The trades route is newest first, offset-paged, with no cursor. When d trades land between two
page reads, ``total`` grows by d and every row moves down d places, so the next page starts with
d rows already read (the tail of what we hold). We drop exactly those, after checking that they
really are equal, positionally, so identical "twin" trades (legitimate: one tx, equal fills)
are never collapsed. Anything inconsistent (total shrinking, repeats that do not line up)
restarts the walk from page 1, a bounded number of times, then proceeds by count and says so
in ``notes``. Trades that landed during the walk are fetched at the end by re-reading page 1
(verified against what we hold), so the result is the wallet's list as it stands at the end.
Kept free of HTTP so the logic can be tested with a fake page reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from opinion_pipeline.opinion_api import errors

MAX_RESTARTS = 3
PARALLEL_MIN_PAGES = 4  # fewer pages are read one by one: in flight at once gains nothing
RUNAWAY_PAGES = 100_000  # a server that never reports an end must not loop us forever

Row = dict[str, Any]
PageReader = Callable[[int], tuple["int | None", list[Row]]]


@dataclass
class WalletTrades:
    """What one ``fetch_wallet_trades`` call read.

    rows: trades, newest first, as returned by the API (page-shift repeats removed).
    pages: page requests made (restarts and the head catch-up included).
    total: the ``total`` reported by the last page read (None if the API omitted it).
    reached_end: the last page of the history was read.
    reached_watermark: stopped because a page reached trades older than the watermark.
    shift_duplicates_dropped: rows dropped because a page shift repeated them.
    restarts: walks restarted from page 1 after an inconsistent shift.
    notes: human-readable remarks (unverified drops, head rows left for the next sync).
    """

    wallet: str
    rows: list[Row] = field(default_factory=list)
    pages: int = 0
    total: int | None = None
    reached_end: bool = False
    reached_watermark: bool = False
    shift_duplicates_dropped: int = 0
    restarts: int = 0
    notes: list[str] = field(default_factory=list)


def page_rows(result: Any, route: str) -> tuple[int | None, list[Row]]:
    """(total, rows) from a list ``result``; ``list: null`` (or ``result: null``) is empty."""
    if result is None:
        return 0, []
    if not isinstance(result, dict):
        raise errors.OpinionPayloadError(f"{route} returned a non-object result", route=route)
    rows = result.get("list")
    if rows is None:
        rows = []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise errors.OpinionPayloadError(
            f"{route} returned a result.list that is not a list of objects", route=route
        )
    raw_total = result.get("total")
    try:
        total = int(raw_total) if raw_total is not None else None
    except (TypeError, ValueError):
        raise errors.OpinionPayloadError(
            f"{route} returned a non-numeric total {raw_total!r}", route=route
        ) from None
    return total, rows


def _oldest_created(rows: list[Row]) -> int | None:
    stamps = []
    for row in rows:
        try:
            stamps.append(int(row.get("createdAt")))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return min(stamps) if stamps else None


def _overlap_matches(accepted: list[Row], rows: list[Row], start: int) -> bool:
    """Does the page, placed at ``start`` in the list as first read, agree with what we hold?

    Positional comparison: identical "twin" trades elsewhere are never collapsed, and a gap
    (start beyond what we hold) means rows were lost, which is also a mismatch.
    """
    if start > len(accepted):
        return False
    lo, hi = max(start, 0), min(start + len(rows), len(accepted))
    return rows[lo - start : hi - start] == accepted[lo:hi]


def _merge(accepted: list[Row], rows: list[Row], start: int) -> tuple[int, int]:
    """Append the page's unseen rows; return (repeats dropped, head rows left for catch-up)."""
    held = len(accepted)
    repeats = head = 0
    for offset, row in enumerate(rows):
        position = start + offset
        if position < 0:
            head += 1
        elif position < held:
            repeats += 1
        else:
            accepted.append(row)
    return repeats, head


def walk_wallet_trades(
    wallet: str,
    read: PageReader,
    *,
    page_limit: int,
    watermark: int | None = None,
    max_pages: int | None = None,
    max_restarts: int = MAX_RESTARTS,
) -> WalletTrades:
    """Read pages via ``read(page) -> (total, rows)`` to the end, the watermark or max_pages.

    ``growth`` = total now - total at page 1 = rows inserted at the head since; page p then
    starts at position (p-1)*limit - growth of the list as page 1 saw it.
    """
    out = WalletTrades(wallet=wallet)
    accepted: list[Row] = []
    first_total: int | None = None
    growth = 0
    page = 1
    budget = RUNAWAY_PAGES if max_pages is None else max_pages
    while out.pages < budget:
        total, rows = read(page)
        out.pages += 1
        if page == 1:
            accepted, first_total, growth = list(rows), total, 0
        else:
            now_growth = growth
            if total is not None and first_total is not None:
                now_growth = total - first_total
            start = (page - 1) * page_limit - now_growth
            if now_growth < growth or not _overlap_matches(accepted, rows, start):
                if out.restarts < max_restarts:
                    out.restarts += 1
                    page = 1
                    continue
                out.notes.append(
                    f"page {page}: total moved by {now_growth - growth:+d} and the rows did not "
                    f"line up after {max_restarts} restarts; repeats dropped by count, unverified"
                )
            growth = max(growth, now_growth)
            repeats, _head = _merge(accepted, rows, start)
            out.shift_duplicates_dropped += repeats
        out.total = total
        oldest = _oldest_created(rows)
        out.reached_watermark = watermark is not None and oldest is not None and oldest < watermark
        out.reached_end = (
            not rows or len(rows) < page_limit or (total is not None and page * page_limit >= total)
        )
        if out.reached_end or out.reached_watermark:
            break
        page += 1
    if first_total is not None and growth > 0:
        accepted = _catch_up_head(out, read, accepted, first_total, page_limit, max_pages)
    out.rows = accepted
    return out


def _catch_up_head(
    out: WalletTrades,
    read: PageReader,
    accepted: list[Row],
    first_total: int,
    page_limit: int,
    max_pages: int | None,
) -> list[Row]:
    """Trades that landed at the head during the walk: re-read page 1 and prepend them.

    ``accepted`` is the list as it stood when page 1 was read, so page 1 now holds
    h = total_now - first_total new rows followed by accepted's first rows; verified before use.
    Otherwise the next sync picks them up (they are newer than anything stored).
    """
    if max_pages is not None and out.pages >= max_pages:
        out.notes.append("trades landed during the read; max_pages left them for the next sync")
        return accepted
    total, rows = read(1)
    out.pages += 1
    new = (total or 0) - first_total
    if new <= 0:
        return accepted
    if new < min(len(rows), page_limit) and rows[new:] == accepted[: len(rows) - new]:
        out.total = total
        return rows[:new] + accepted
    out.notes.append(f"{new} trades landed during the read; the next sync will read them")
    return accepted


def walk_pages(
    read: PageReader,
    *,
    page_limit: int,
    max_pages: int,
    first: tuple[int | None, list[Row]] | None = None,
) -> Iterator[tuple[int | None, list[Row]]]:
    """(total, rows) per page from page 1 until a short page or ``total`` says it was the last.

    ``first`` is page 1 when the caller has already read it.
    """
    for page in range(1, max_pages + 1):
        total, rows = first if page == 1 and first is not None else read(page)
        yield total, rows
        if len(rows) < page_limit or (total is not None and page * page_limit >= total):
            return


def read_pages_concurrently(
    read: PageReader, *, page_limit: int, readers: int, max_pages: int
) -> list[list[Row]] | None:
    """Every page of a list whose order does not matter to us, ``readers`` requests at a time.

    Page 1 gives ``total``; the other pages are then read at once. They must all report the
    same total and be full (the last one non-empty), else the list moved during the read and
    None asks the caller to walk it page by page. A short list, or one without ``total``, is
    walked page by page here (:func:`walk_pages`), page 1 not read twice.
    """
    total, first = read(1)
    last = -(-total // page_limit) if total is not None else None
    if last is None or last < PARALLEL_MIN_PAGES or last > max_pages:
        walk = walk_pages(read, page_limit=page_limit, max_pages=max_pages, first=(total, first))
        return [rows for _total, rows in walk]
    with ThreadPoolExecutor(readers, thread_name_prefix="page") as pool:
        rest = list(pool.map(read, range(2, last + 1)))
    if any(page_total != total for page_total, _rows in rest):
        return None
    pages = [first, *(rows for _total, rows in rest)]
    if any(len(rows) != page_limit for rows in pages[:-1]) or not pages[-1]:
        return None
    return pages
