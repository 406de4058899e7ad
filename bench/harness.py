"""What the benchmarks share: the paper venue in its own process, and percentiles."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from typing import TYPE_CHECKING, Literal  # noqa: E402

from actors.risk.limits import RiskLimits  # noqa: E402
from brokers.sim import SimEndpoints  # noqa: E402
from daemon.config import BrokerConfig  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator

# A benchmark's own flow (hundreds of alternating 1-share orders) is what the order-rate and
# duplicate-order controls exist to stop: they are off. Every other check runs as default.
UNPACED = RiskLimits(duplicate_window=0.0, max_orders_per_second=None, max_orders_per_minute=None)


def paper_broker(
    venue: SimEndpoints,
    stream_url: str | None = None,
    requests_per_minute: int | Literal["unlimited"] = "unlimited",
) -> BrokerConfig:
    """The daemon's ``[broker]`` for a paper venue (its order stream at ``stream_url``).
    The request budget is off unless asked for: a benchmark measures speed, and the
    venue it starts has no limit to keep under."""
    return BrokerConfig(
        kind="paper",
        base_url=venue.alpaca_url,
        stream_url=stream_url or venue.stream_url,
        data_url=venue.data_url,
        requests_per_minute=requests_per_minute,
    )


@contextmanager
def venue_process(scenario: Path | None = None) -> Iterator[SimEndpoints]:
    """``tradingd sim --port 0`` in its own process, so it does not share the daemon's CPU;
    with ``scenario``, playing that file."""
    extra = ["--scenario", str(scenario)] if scenario is not None else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon.cli", "sim", "--port", "0", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        ready: dict[str, str] = msgspec.json.decode(proc.stdout.readline())
        yield SimEndpoints(
            alpaca_url=ready["alpaca_url"],
            stream_url=ready["stream_url"],
            data_url=ready["data_url"],
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of ``samples``."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
