"""Fixtures of the reliability suite: fast simulators, a fork server for kill tests, figures."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.context import BaseContext
from pathlib import Path

import pytest

from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.conftest import write_whales_file
from opinion_pipeline_tests.reliability.helpers import FAST_WORLD


@pytest.fixture
def fast_sim(api_key: str) -> Iterator[SimulatorProcess]:
    """A private simulator: small world, frozen clock, the venue's rate limit off (speed)."""
    with SimulatorProcess(api_key, **FAST_WORLD) as sim:
        yield sim


@pytest.fixture
def whales_file(tmp_path: Path, fast_sim: SimulatorProcess) -> Path:
    return write_whales_file(tmp_path / "whales.csv", fast_sim.wallets())


@pytest.fixture(scope="session")
def forkserver() -> BaseContext:
    """Children forked from a clean server that preloaded the pipeline (ms to start, not s).

    A fresh interpreter per kill would spend seconds importing dagster, pandas and duckdb; the
    fork server imports them once, and each child is a real process that SIGKILL really kills.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["opinion_pipeline_tests.reliability.tasks"])
    return context
