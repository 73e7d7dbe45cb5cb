"""fan_out: one item's failure is recorded, a run-wide error stops every worker at once."""

from __future__ import annotations

import threading
import time

import pytest

from opinion_pipeline.sync.fanout import fan_out

pytestmark = pytest.mark.unit


class Refused(Exception):
    pass


def _write(batch: list[tuple[int, int]]) -> dict[int, str]:
    return {}


def test_a_run_wide_error_stops_every_worker_before_its_next_request():
    sent: list[int] = []
    lock = threading.Lock()

    def fetch(item: int) -> int:
        with lock:
            sent.append(item)
        if item == 0:
            raise Refused("Invalid area")
        time.sleep(0.02)
        return item

    def slow_progress(item: int, result: int, done: int) -> None:
        time.sleep(0.05)  # a calling thread slower than its workers (a loaded machine)

    with pytest.raises(Refused, match="Invalid area"):
        fan_out(range(200), fetch, _write, key=lambda i: i, workers=4,
                on_fetched=slow_progress, stop_on=(Refused,))  # fmt: skip
    # the three other workers may each have one request in flight when item 0 fails; none more
    assert 0 in sent and len(sent) <= 4


def test_one_items_failure_is_recorded_and_the_others_are_written():
    written: list[int] = []

    def fetch(item: int) -> int:
        if item == 3:
            raise ValueError("bad payload")
        return item * 10

    def write(batch: list[tuple[int, int]]) -> dict[int, str]:
        written.extend(result for _, result in batch)
        return {}

    result = fan_out(range(6), fetch, write, key=lambda i: i, workers=2, stop_on=(Refused,))
    assert sorted(written) == [0, 10, 20, 40, 50]
    assert result.failed == {3: "ValueError: bad payload"}
    assert sorted(result.written) == [0, 1, 2, 4, 5]
