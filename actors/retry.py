"""Exponential backoff with jitter, and which venue failures are worth a retry: pure, so the
actors' cores may use them. The I/O shell that sleeps on them for the venue's idempotent
reads is ``actors.patient_reads.read_until_answered``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs

from brokers.errors import AuthenticationFailed, BrokerError, BrokerUnavailable


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


def startup_backoff() -> Backoff:
    """1 s doubling to a minute: a venue in trouble is asked about once a minute, and a
    Retry-After of up to four minutes is honoured in full."""
    return Backoff(base=1.0, cap=60.0)
