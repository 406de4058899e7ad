"""Alpaca's per-minute request limit, as the venue enforces it when configured. Pure.

A fixed window of one minute starts at the first request; each request inside it uses one
unit; past the limit the venue answers 429 ``42910000`` until the window ends. Every
answer carries ``X-Ratelimit-Limit``, ``-Remaining`` and ``-Reset`` (Unix seconds).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

WINDOW = timedelta(minutes=1)


@attrs.frozen
class RateDecision:
    allowed: bool
    headers: dict[str, str]


@attrs.define
class RateLimit:
    per_minute: int
    _window_start: datetime | None = None
    _used: int = 0

    def __attrs_post_init__(self) -> None:
        if self.per_minute <= 0:
            raise ValueError("rate limit must be > 0 requests per minute")

    def take(self, now: datetime) -> RateDecision:
        """Count one request at ``now``: whether it may pass, and the headers to send."""
        if self._window_start is None or now >= self._window_start + WINDOW:
            self._window_start, self._used = now, 0
        allowed = self._used < self.per_minute
        if allowed:
            self._used += 1
        reset = self._window_start + WINDOW
        headers = {
            "X-Ratelimit-Limit": str(self.per_minute),
            "X-Ratelimit-Remaining": str(self.per_minute - self._used),
            "X-Ratelimit-Reset": str(int(reset.timestamp())),
        }
        return RateDecision(allowed, headers)
