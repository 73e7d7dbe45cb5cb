"""Shared helpers of the benchmarks: machine facts, timing, peak memory, simulator and output.

Every benchmark prints its figures as it goes and ends with exactly one JSON line holding them,
so BENCHMARKS.md (and the smoke test) can read a run without parsing prose.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

API_LIMIT = 15.0  # the venue's requests/second per key
PAGE_ROWS = 20  # the venue's maximum page size
BENCH_KEY = "bench-key-0123456789"
LATENCY = {"latency_ms": 60, "latency_jitter_ms": 60}  # 60-120 ms per response
FROZEN_START = 1_767_225_600  # 2026-01-01T00:00:00Z: a fixed world for repeatable runs


def parser(description: str) -> argparse.ArgumentParser:
    """The common flags: --quick (tiny sizes, for the smoke test) and --repeat."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    result.add_argument("--repeat", type=int, default=3, help="repetitions (spread)")
    return result


def machine() -> dict[str, Any]:
    """What the figures were measured on; load average shows concurrent work."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gb = 0.0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    import duckdb
    import pandas

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "mem_gb": mem_gb,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def spread(values: Sequence[float], digits: int = 3) -> dict[str, float]:
    """min / median / max of repeated measurements."""
    if not values:
        return {}
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
        "n": len(values),
    }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a reported p95 is a real sample)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def say(message: str) -> None:
    print(message, flush=True)


def repeated(repeat: int, label: str, run: Callable[[int], dict[str, Any]]) -> list[dict[str, Any]]:
    """``run(index)`` ``repeat`` times, each result printed as it comes; the list of results."""
    results = []
    for index in range(repeat):
        results.append(run(index))
        say(f"  {label} #{index + 1}: {results[-1]}")
    return results


def emit(name: str, figures: dict[str, Any]) -> None:
    """The last line of every benchmark: one JSON object with all figures."""
    print(json.dumps({"benchmark": name, **figures}, sort_keys=True, default=str), flush=True)


def _rss_kb() -> int:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


class PeakMemory:
    """Peak resident memory of this process while the block runs (MB), and its rise.

    Resets the kernel's high-water mark (/proc/self/clear_refs) and reads VmHWM afterwards;
    a 5 ms sampler is the fallback where that is not allowed.
    """

    def __init__(self) -> None:
        self.before_mb = 0.0
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._sampled = 0
        self._hwm = False

    @property
    def rise_mb(self) -> float:
        return round(self.peak_mb - self.before_mb, 1)

    def __enter__(self) -> PeakMemory:
        self.before_mb = _rss_kb() / 1024
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self._hwm = True
        except OSError:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._sampled = max(self._sampled, _rss_kb())
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        if self._hwm:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM"):
                    self.peak_mb = round(int(line.split()[1]) / 1024, 1)
        else:
            self._stop.set()
            self._thread.join()
            self.peak_mb = round(max(self._sampled, _rss_kb()) / 1024, 1)


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A temporary directory removed afterwards (warehouses, limiter state, Dagster homes)."""
    path = Path(tempfile.mkdtemp(prefix=f"opinion-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def simulator(**kwargs: Any) -> Any:
    """A SimulatorProcess with the benchmark key (quiet)."""
    from opinion_pipeline.simulator.process import SimulatorProcess

    extra = [*kwargs.pop("extra_args", ()), "--quiet"]
    return SimulatorProcess(BENCH_KEY, extra_args=extra, **kwargs)


def client(base_url: str, limiter_dir: Path, rate: float = 14.4) -> Any:
    """The pipeline's client as the pipeline builds it (default pacing 14.4/s)."""
    from opinion_pipeline.opinion_api import OpinionAPI

    return OpinionAPI(
        base_url=base_url,
        api_key=BENCH_KEY,
        limiter_dir=str(limiter_dir),
        rate_limit_per_second=rate,
    )


def warehouse(path: Path) -> Any:
    """The pipeline's DuckDB warehouse resource on ``path``."""
    from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse

    return DuckDBWarehouse(path=str(path))


def sim_whales(sim: Any) -> list[Any]:
    """Every wallet of the simulator's world as a registry whale (its profile as the tag)."""
    from opinion_pipeline.defs.whale_registry.registry_file import Whale

    return [Whale(w["address"], w["label"], (w["profile"],)) for w in sim.wallets()]


def sim_totals(sim: Any) -> dict[str, int]:
    """The simulator's counters for all keys: requests served and 429s sent."""
    total = sim.counters()["total"]
    return {"requests": int(total["requests"]), "rate_limited": int(total["rate_limited"])}
