"""Which executors still have work: lets ``run --once`` and shutdown wait until all is final."""

from __future__ import annotations

import attrs
import trio


@attrs.define
class Activity:
    _busy: set[str] = attrs.field(factory=set)
    _idle: trio.Event = attrs.field(factory=trio.Event)
    _changed: trio.Event = attrs.field(factory=trio.Event)

    def __attrs_post_init__(self) -> None:
        self._idle.set()

    def report(self, symbol: str, *, idle: bool) -> None:
        """Each executor reports after every step; only it reports for its symbol."""
        if idle == (symbol not in self._busy):
            return
        self._changed.set()
        self._changed = trio.Event()
        if idle:
            self._busy.discard(symbol)
            if not self._busy:
                self._idle.set()
        else:
            if not self._busy:
                self._idle = trio.Event()
            self._busy.add(symbol)

    def expect_work(self, symbol: str) -> None:
        """Work was handed to the symbol's executor before it could say so itself (a signal
        replayed at startup): busy until its next report, so no waiter misses that work."""
        self.report(symbol, idle=False)

    @property
    def busy(self) -> frozenset[str]:
        return frozenset(self._busy)

    async def wait_idle(self) -> None:
        while self._busy:
            await self._idle.wait()

    async def wait_symbols_idle(self, symbols: frozenset[str]) -> None:
        """Return once none of ``symbols`` has work left (unlisted symbols may stay busy)."""
        while self._busy & symbols:
            await self._changed.wait()
