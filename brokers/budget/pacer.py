"""``VenueBudget``: the trio shell of one venue's ``RequestBudget``.

A call waits in ``slot(priority)`` until the budget lets it through, sends, and leaves the
slot when its answer is back, with what the venue said about its limits. No lock is held
across the wait and no task runs in the background: each waiter sleeps on its own event
until the budget's next deadline, and whoever wakes (a waiter at a deadline, a call leaving
its slot, a correction) lets through every waiter that may go now. A symbol's call waits
only for the budget itself, never for another symbol's.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import attrs
import trio

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from brokers.base import RequestPriority
    from brokers.budget.core import Correction, RequestBudget


@attrs.define
class Slot:
    """A call let through: what the venue says in its answer goes in ``heard``."""

    corrections: list[Correction] = attrs.field(factory=list)
    sent: bool = True

    def heard(self, *corrections: Correction) -> None:
        self.corrections.extend(corrections)

    def not_sent(self) -> None:
        """Nothing left this process (the call failed before connecting): it never counted."""
        self.sent = False


@attrs.define
class VenueBudget:
    core: RequestBudget
    _let: set[int] = attrs.field(factory=set)  # tickets let through, their waiters not back yet
    # Set (and replaced) whenever the budget changed: waiters look again at their turn and
    # at the next deadline, which an answer or a correction may have moved.
    _changed: trio.Event = attrs.field(factory=trio.Event)

    @asynccontextmanager
    async def slot(self, priority: RequestPriority) -> AsyncIterator[Slot]:
        """Wait until a call of ``priority`` may go; the body sends it."""
        ticket = self.core.ask(priority, trio.current_time())
        try:
            self._let_through()
            while ticket not in self._let:
                changed = self._changed
                with trio.move_on_at(self.core.next_deadline(trio.current_time())) as timer:
                    await changed.wait()
                if timer.cancelled_caught:
                    self._let_through()  # the deadline: time itself freed a slot
        except BaseException:
            if ticket in self._let:
                # Let through and cancelled before sending: the slot goes to the next.
                self._let.discard(ticket)
                self.core.finished(ticket, trio.current_time(), sent=False)
            else:
                self.core.withdraw(ticket)
            self._let_through()
            raise
        self._let.discard(ticket)
        slot = Slot()
        try:
            yield slot
        finally:
            # Cancelled mid-call, the request may have left: it counts as answered now.
            now = trio.current_time()
            self.core.finished(ticket, now, sent=slot.sent)
            for correction in slot.corrections:
                self.core.correct(correction, now)
            self._let_through()

    def correct(self, correction: Correction) -> None:
        """What the venue said outside any one call (a stream's penalty notice)."""
        self.core.correct(correction, trio.current_time())
        self._let_through()

    def _let_through(self) -> None:
        self._let.update(self.core.grant(trio.current_time()))
        self._changed.set()
        self._changed = trio.Event()
