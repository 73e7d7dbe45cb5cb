"""Fixtures for the simulator's own tests: real child processes on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from opinion_pipeline.simulator import SimulatorProcess
from opinion_pipeline_tests.simulator.helpers import API_KEY, START


@pytest.fixture(scope="session")
def frozen_sim() -> Iterator[SimulatorProcess]:
    """A shared simulator with time frozen and no rate limit. Tests must not change its state."""
    with SimulatorProcess(API_KEY, clock_speed=0, start_time=START, rate_limit=0) as sim:
        yield sim


@pytest.fixture
def new_sim() -> Iterator[Callable[..., SimulatorProcess]]:
    """Start a private simulator (frozen clock and fixed start unless overridden) for one test."""
    started: list[SimulatorProcess] = []

    def start(**options: Any) -> SimulatorProcess:
        settings: dict[str, Any] = {"clock_speed": 0, "start_time": START, "rate_limit": 0}
        settings.update(options)
        sim = SimulatorProcess(API_KEY, **settings).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def api() -> Iterator[requests.Session]:
    """A session that sends the right apikey header."""
    with requests.Session() as session:
        session.headers["apikey"] = API_KEY
        yield session
