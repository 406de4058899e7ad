"""The paper venue: a simulated broker speaking Alpaca's Trading API v2 over loopback.

Start it with ``endpoints = await nursery.start(serve_sim, SimConfig())`` and cancel the
nursery to stop it.
"""

from __future__ import annotations

from brokers.sim.config import SimConfig, SimEndpoints
from brokers.sim.control import SimControl, running_sim
from brokers.sim.core.assets import SimAsset
from brokers.sim.scenario import Scenario, ScenarioError, load_scenario
from brokers.sim.server import serve_sim

__all__ = [
    "Scenario",
    "ScenarioError",
    "SimAsset",
    "SimConfig",
    "SimControl",
    "SimEndpoints",
    "load_scenario",
    "running_sim",
    "serve_sim",
]
