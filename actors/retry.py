"""Exponential backoff with jitter, as a pure object, and the one I/O shell that sleeps on it
for the venue's idempotent reads.

The shell is ours rather than a retry library's: before each sleep the daemon must say what
it waits for (``tradingd status``, systemd's ``STATUS=``) with the exact delay and attempt,
per call, and honour the venue's own hint (Retry-After, X-Ratelimit-Reset) per failure.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs
import trio

from brokers.errors import AuthenticationFailed, BrokerError, BrokerUnavailable

log = logging.getLogger("tradingd.retry")

T = TypeVar("T")


@attrs.define
class Backoff:
    """Delays of ``base * factor**n`` capped at ``cap``, each jittered into [d/2, d].

    A venue's own hint (Retry-After, X-Ratelimit-Reset) wins when it asks for longer.
    """

    base: float = 0.25
    factor: float = 2.0
    cap: float = 30.0
    rng: random.Random = attrs.field(factory=random.Random)
    attempts: int = 0

    def next_delay(self, hint: float | None = None) -> float:
        ceiling = min(self.cap, self.base * self.factor**self.attempts)
        self.attempts += 1
        delay = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        if hint is not None and hint > delay:
            return min(hint, self.cap * 4)
        return delay


@attrs.frozen
class BrokerWait:
    """One wait for the venue: which read failed how, how long until the next try."""

    failure: str  # the error's own words: "GET /v2/account: rate limited (429)"
    delay: float
    attempt: int  # the attempt that failed, from 1

    def describe(self) -> str:
        return (
            f"waiting for the broker: {self.failure}, "
            f"retry in {self.delay:.0f} s, attempt {self.attempt}"
        )


# Told of every wait before its sleep begins (status lines, systemd's start timeout).
OnWait = Callable[[BrokerWait], None]


def is_worth_retrying(exc: BrokerError) -> bool:
    """429, 5xx, timeouts, refused connections, an unreadable answer: a read asked again
    may succeed. Refused credentials never will, and a 404 is an answer."""
    if isinstance(exc, AuthenticationFailed):
        return False
    # The exact class: a venue's answer this adapter could not read (a proxy's error page).
    return isinstance(exc, BrokerUnavailable) or type(exc) is BrokerError


async def read_until_answered(
    read: Callable[[], Awaitable[T]],
    *,
    on_wait: OnWait | None = None,
    backoff: Backoff | None = None,
) -> T:
    """``read()`` again after each retryable failure, for as long as it takes.

    Only for idempotent calls (reads): a retry can never become a second order.
    ``AuthenticationFailed`` and final answers are raised at once.
    """
    backoff = backoff or startup_backoff()
    while True:
        try:
            return await read()
        except BrokerError as exc:
            if not is_worth_retrying(exc):
                raise
            hint = exc.retry_after if isinstance(exc, BrokerUnavailable) else None
            wait = BrokerWait(str(exc), backoff.next_delay(hint), backoff.attempts)
            log.warning("%s", wait.describe(), extra={"attempt": wait.attempt})
            if on_wait is not None:
                on_wait(wait)
            await trio.sleep(wait.delay)


def startup_backoff() -> Backoff:
    """1 s doubling to a minute: a venue in trouble is asked about once a minute, and a
    Retry-After of up to four minutes is honoured in full."""
    return Backoff(base=1.0, cap=60.0)
