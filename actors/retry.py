"""Exponential backoff with jitter, as a pure object: the caller does the sleeping."""

from __future__ import annotations

import random

import attrs


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
