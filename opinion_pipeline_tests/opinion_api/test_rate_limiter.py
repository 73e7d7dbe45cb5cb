"""The GCRA limiter: pacing, threads and processes sharing one state file, 429 penalties."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from opinion_pipeline.opinion_api.rate_limiter import (
    MAX_AHEAD_S,
    RateLimiter,
    default_limiter_dir,
    key_fingerprint,
)

KEY = "limiter-secret-key-1234567890"


def assert_paced(stamps: list[float], rate: float, start: float) -> float:
    """Grants never run ahead of the schedule start + j/rate.

    Each grant is observed after its slot (a busy machine only makes it later), and the j-th
    earliest observation is at or after the j-th slot, so this holds exactly under any load.
    """
    stamps = sorted(stamps)
    for j, stamp in enumerate(stamps):
        assert stamp >= start + j / rate - 0.002, (j, stamp - start)
    return (len(stamps) - 1) / (stamps[-1] - start)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_gcra_arithmetic_with_fake_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    limiter = RateLimiter(tmp_path / "s", 10.0, clock=clock.time, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.1, 0.1, 0.1, 0.1])
    clock.now += 5.0  # idle: no credit is banked with burst=1
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(0.1)


def test_burst_tolerance(tmp_path: Path) -> None:
    clock = FakeClock()
    limiter = RateLimiter(tmp_path / "s", 10.0, burst=3, clock=clock.time, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] > 0


def test_penalize_pushes_next_slot(tmp_path: Path) -> None:
    clock = FakeClock()
    limiter = RateLimiter(tmp_path / "s", 10.0, clock=clock.time, sleep=clock.sleep)
    limiter.acquire()
    limiter.penalize(2.0)
    other = RateLimiter(tmp_path / "s", 10.0, clock=clock.time, sleep=clock.sleep)
    assert other.acquire() == pytest.approx(2.0)  # another "process" sees the penalty


def test_corrupt_or_far_future_state_is_reset(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "s"
    limiter = RateLimiter(path, 10.0, clock=clock.time, sleep=clock.sleep)
    path.write_text("garbage")
    assert limiter.acquire() == 0.0
    path.write_text(repr(clock.now + MAX_AHEAD_S + 100))
    assert limiter.acquire() == 0.0


def test_state_file_named_by_fingerprint_not_key(tmp_path: Path) -> None:
    limiter = RateLimiter.for_key(tmp_path, KEY, "api.example:443", 5.0)
    limiter.acquire()
    names = [p.name for p in tmp_path.iterdir()]
    assert names == [limiter.state_path.name]
    assert KEY not in names[0] and KEY not in limiter.state_path.read_text()
    assert key_fingerprint(KEY, "a") != key_fingerprint(KEY, "b")
    assert key_fingerprint(KEY, "a") != key_fingerprint(KEY + "x", "a")


def test_default_dir_is_per_user_under_tmp() -> None:
    import tempfile

    path = default_limiter_dir()
    assert str(path).startswith(tempfile.gettempdir()) and "opinion-pipeline-" in str(path)


def test_threads_never_exceed_rate(tmp_path: Path) -> None:
    rate = 40.0
    limiter = RateLimiter(tmp_path / "s", rate)
    stamps: list[float] = []
    lock = threading.Lock()
    start = time.time()

    def work() -> None:
        for _ in range(8):
            limiter.acquire()
            with lock:
                stamps.append(time.time())

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 48
    measured = assert_paced(stamps, rate, start)
    assert rate >= measured > rate * 0.7  # and it is not needlessly slow


WORKER = """
import json, sys, time
from opinion_pipeline.opinion_api.rate_limiter import RateLimiter
limiter = RateLimiter.for_key(sys.argv[1], sys.argv[2], "127.0.0.1:1", float(sys.argv[3]))
print("ready", flush=True)
start = float(sys.stdin.readline())
time.sleep(max(0.0, start - time.time()))
stamps = []
while time.time() < start + 1.5:
    limiter.acquire()
    stamps.append(time.time())
print(json.dumps(stamps))
"""


def test_two_processes_share_one_budget(tmp_path: Path) -> None:
    rate = 30.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path), KEY, str(rate)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:  # both interpreters are up before the race starts
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    start = time.time() + 0.1
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start}\n")
        proc.stdin.flush()
    results = [json.loads(proc.communicate(timeout=30)[0]) for proc in procs]
    assert all(len(r) > 10 for r in results)  # both got a fair share
    combined = [s for r in results for s in r]
    measured = assert_paced(combined, rate, start)
    assert rate >= measured > rate * 0.7
