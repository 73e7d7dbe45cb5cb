"""Cross-process request pacing for one API key (GCRA in a locked state file).

The venue allows 15 requests/second per key, and several Dagster runs (each its own
process, each maybe with a thread pool) share that key on one machine. A per-process limiter
cannot see the others, so the pacing state lives in a tiny file: the GCRA "theoretical
arrival time" (TAT), a wall-clock float. Each request takes an exclusive lock, reserves the
next slot (``max(now, TAT)``), advances the TAT by one emission interval, releases the lock and
sleeps until its slot. Reserving under the lock and sleeping outside it means threads and
processes interleave fairly and the combined rate never exceeds the configured one.

The file is named by a fingerprint of (key, host), never the key itself, so it is safe in a
shared temp dir, and a simulator on localhost does not share a budget with the real API.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

try:  # POSIX: flock on the state file itself.
    import fcntl
except ImportError:  # pragma: no cover - Windows falls back to filelock.
    fcntl = None  # type: ignore[assignment]

# How far ahead of "now" a stored TAT may be before we call it corrupt (clock jump, or a
# Retry-After penalty from a process that has since died). Longer waits are never legitimate.
MAX_AHEAD_S = 120.0


def default_limiter_dir() -> Path:
    """A per-user directory under the system temp dir (private: mode 0700)."""
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user)
    return Path(tempfile.gettempdir()) / f"opinion-pipeline-{safe}" / "ratelimit"


def key_fingerprint(api_key: str, host: str) -> str:
    """A short, non-reversible name for (key, host); the key never touches the filesystem."""
    digest = hashlib.sha256(f"opinion-pipeline/ratelimit\0{host}\0{api_key}".encode())
    return digest.hexdigest()[:24]


class RateLimiter:
    """Paces requests to ``rate`` per second across threads and processes sharing ``state_path``.

    ``burst`` is how many requests may go back to back after an idle spell (1 = strict pacing).
    """

    def __init__(
        self,
        state_path: Path,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.state_path = Path(state_path)
        self.rate = float(rate)
        self.interval = 1.0 / self.rate
        self.tolerance = max(0, int(burst) - 1) * self.interval
        self._clock = clock
        self._sleep = sleep
        self._thread_lock = threading.Lock()
        self.state_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    @classmethod
    def for_key(
        cls, directory: Path | str, api_key: str, host: str, rate: float, **kwargs: object
    ) -> RateLimiter:
        path = Path(directory) / f"opinion-{key_fingerprint(api_key, host)}.gcra"
        return cls(path, rate, **kwargs)  # type: ignore[arg-type]

    def acquire(self) -> float:
        """Reserve the next slot and sleep until it; returns the seconds waited."""
        with self._locked_state() as (now, tat, store):
            start = max(now, tat - self.tolerance)
            store(max(now, tat) + self.interval)
        wait = start - now
        if wait > 0:
            self._sleep(wait)
            return wait
        return 0.0

    def penalize(self, seconds: float) -> None:
        """After a 429: push every process's next slot at least ``seconds`` into the future."""
        seconds = min(max(0.0, seconds), MAX_AHEAD_S)
        with self._locked_state() as (now, tat, store):
            store(max(tat, now + seconds))

    def reset(self) -> None:
        """Forget the schedule (tests)."""
        with self._locked_state() as (now, _tat, store):
            store(now)

    @contextlib.contextmanager
    def _locked_state(self) -> Iterator[tuple[float, float, Callable[[float], None]]]:
        with self._thread_lock, self._file_lock() as fd:
            now = self._clock()
            tat = self._read(fd, now)
            new: list[float] = []
            yield now, tat, new.append
            if new:
                data = repr(new[-1]).encode()
                os.ftruncate(fd, 0)
                os.pwrite(fd, data, 0)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[int]:
        fd = os.open(self.state_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    yield fd
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            else:  # pragma: no cover
                from filelock import FileLock

                with FileLock(str(self.state_path) + ".lock"):
                    yield fd
        finally:
            os.close(fd)

    @staticmethod
    def _read(fd: int, now: float) -> float:
        raw = os.pread(fd, 64, 0)
        try:
            tat = float(raw.decode().strip()) if raw else now
        except ValueError:  # corrupt file: start afresh
            return now
        if tat != tat or tat > now + MAX_AHEAD_S:  # NaN or implausibly far ahead
            return now
        return tat
