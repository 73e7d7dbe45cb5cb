"""Fetch many items (wallets) concurrently and write what came back in batches.

The building block of every per-wallet sync (trades today; positions and discovery next):

* worker threads only fetch (the API client's shared limiter keeps the total under the key's
  rate); the calling thread validates and writes, one batch at a time, each in one short
  transaction, so no warehouse connection is ever held while waiting on the API;
* a batch is written every ``flush_every_items`` items or ``flush_every_s`` seconds, and once
  more while the last requests are still in flight, so what is left to write after the last
  answer (the cycle's tail) is at most a few items;
* one item's failure (its fetch raised, or its payload could not be used) never loses the
  others: it is recorded against the item, with its cause, and the rest go on;
* an error that says every item would fail the same way (``stop_on``: the key refused, the
  region refused) is not an item's failure: the worker that met it stops the others before
  their next request (so at most one request per worker is sent after the cause is known,
  however slowly the calling thread wakes), the batch in hand is written, and the error
  propagates, so one cause is reported once.

A crash loses at most the batch in flight, which the next sync fetches again (syncs derive
where to start from what is stored).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Key = TypeVar("Key", bound=Hashable)
Result = TypeVar("Result")

FLUSH_EVERY_ITEMS = 100
FLUSH_EVERY_SECONDS = 3.0


class _Stopped(Exception):
    """An item not fetched because a run-wide error (``stop_on``) was met first."""


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass
class FanOutResult(Generic[Key]):
    """What happened to each item: written (in a committed batch) or failed, with why."""

    written: list[Key] = field(default_factory=list)
    failed: dict[Key, str] = field(default_factory=dict)
    batches: int = 0


def fan_out(
    items: Sequence[Item],
    fetch: Callable[[Item], Result],
    write: Callable[[list[tuple[Item, Result]]], dict[Key, str]],
    *,
    key: Callable[[Item], Key],
    workers: int,
    flush_every_items: int = FLUSH_EVERY_ITEMS,
    flush_every_s: float = FLUSH_EVERY_SECONDS,
    on_fetched: Callable[[Item, Result, int], None] | None = None,
    stop_on: tuple[type[BaseException], ...] = (),
) -> FanOutResult[Key]:
    """Fetch every item on ``workers`` threads and hand finished ones to ``write`` in batches.

    ``write(batch)`` stores a batch (in one transaction) and returns the items of it that could
    not be used, keyed, with why; an exception from ``write`` is not an item's failure and
    propagates (the warehouse is the problem, not the item). ``on_fetched(item, result, done)``
    runs on the calling thread for progress logs. A fetch raising one of ``stop_on`` stops the
    fan-out as the module docstring says.
    """
    result: FanOutResult[Key] = FanOutResult()
    batch: list[tuple[Item, Result]] = []
    batch_started = time.monotonic()

    def flush() -> None:
        nonlocal batch, batch_started
        if batch:
            failed = write(batch)
            result.failed.update(failed)
            result.written.extend(key(item) for item, _ in batch if key(item) not in failed)
            result.batches += 1
        batch, batch_started = [], time.monotonic()

    stopped = threading.Event()

    def fetch_unless_stopped(item: Item) -> Result:
        if stopped.is_set():
            raise _Stopped
        try:
            return fetch(item)
        except stop_on:
            stopped.set()  # in the worker: the next items are not sent, whoever runs them
            raise

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fetch") as pool:
        futures: dict[Future[Result], Item] = {
            pool.submit(fetch_unless_stopped, item): item for item in items
        }
        for future in as_completed(futures):
            item = futures[future]
            done += 1
            try:
                fetched = future.result()
            except _Stopped:
                continue  # the run-wide error's own future raises below
            except stop_on:
                pool.shutdown(wait=True, cancel_futures=True)
                flush()
                raise
            except Exception as error:  # one item's failure must not lose the others
                result.failed[key(item)] = describe_error(error)
                continue
            if on_fetched is not None:
                on_fetched(item, fetched, done)
            batch.append((item, fetched))
            due = (
                len(batch) >= flush_every_items
                or time.monotonic() - batch_started >= flush_every_s
                or len(items) - done == workers  # the last requests are in flight: write now
            )
            if due:
                flush()
        flush()
    return result
