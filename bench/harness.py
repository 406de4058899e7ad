"""What the benchmarks share: the paper venue in its own process, and percentiles."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from brokers.sim import SimEndpoints  # noqa: E402


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
