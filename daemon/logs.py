"""Logs: one line per event on stderr (journald keeps them), UTC timestamps."""

from __future__ import annotations

import logging
import sys
import time


class _UtcFormatter(logging.Formatter):
    def converter(self, timestamp: float | None) -> time.struct_time:
        return time.gmtime(timestamp)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _UtcFormatter(
            "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S"
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries speak at WARNING and above only: their INFO lines are noise in a service log.
    for noisy in ("httpx", "httpcore", "websockets", "hypercorn"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
