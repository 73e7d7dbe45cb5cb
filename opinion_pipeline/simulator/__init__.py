"""A faithful HTTP simulator of the Opinion OpenAPI (see shared/opinion-api.md).

Run it with ``python -m opinion_pipeline.simulator --port PORT --api-key KEY``, or from Python
with :class:`SimulatorProcess`. ``whales.csv`` next to this file lists the default world's wallets.
"""

from __future__ import annotations

from pathlib import Path

from opinion_pipeline.simulator.process import SimulatorControl, SimulatorError, SimulatorProcess

WHALES_CSV = Path(__file__).with_name("whales.csv")

__all__ = ["WHALES_CSV", "SimulatorControl", "SimulatorError", "SimulatorProcess"]
