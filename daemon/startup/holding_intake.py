"""The sources' front door from the moment the journal opens: signals that arrive while the
startup gate still waits for the venue are journaled and held, never dropped.

Before the gate passes each line is parsed and de-duplicated here; a good one is committed
as ``accepted`` (reason ``held until ready``) before its ack, exactly like a signal queued
behind another. Being in the journal, held signals need no hand-over of their own: the
startup replay of accepted, unworked signals works them in order once the gate passes (and
after a crash while held, on the next start). From then on every line goes straight on to
the router, which remembers the held ids: a resend is a duplicate.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import attrs
import trio

from actors.messages import Ack, BadSignal, ProducedSignal, RouterInput, parse_signal
from actors.router.core import Duplicate, SignalRouterCore
from actors.router.task import arrival_of, record_then_ack
from brokers.base import utc_now
from daemon.journal.signals import HELD_UNTIL_READY

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from actors.records import JournalSink

log = logging.getLogger("tradingd.intake")


@attrs.define
class HoldingIntake:
    """Holds signals until ``stop_holding``; then forwards every line to ``router``."""

    journal: JournalSink
    router: trio.MemorySendChannel[RouterInput]
    sized_entries: bool
    # The router's own dedupe, on the ids accepted before this start (from the journal) and
    # the ones held since. The venue's symbols are not known yet: tradability is the
    # router's to judge once the gate has passed.
    _dedupe: SignalRouterCore = attrs.field(factory=SignalRouterCore)
    # When (trio time) each signal was held in this run: its age is told by this clock, which
    # a wall-clock step cannot move.
    _held_at: dict[str, float] = attrs.field(factory=dict)
    _holding: bool = True
    # Taken for each line, so stopping waits for a line being held to be journaled.
    _lock: trio.Lock = attrs.field(factory=trio.Lock)

    @property
    def held(self) -> int:
        return len(self._held_at)

    async def run(
        self,
        inbox: trio.MemoryReceiveChannel[RouterInput],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        task_status.started()
        async with inbox:
            async for msg in inbox:
                async with self._lock:
                    if self._holding:
                        await self._hold(msg)
                    else:
                        await self.router.send(msg)

    async def stop_holding(self) -> Mapping[str, float]:
        """Hold no more; every held signal is journaled by now. Returns when each was held."""
        async with self._lock:
            self._holding = False
        return dict(self._held_at)

    def remember(self, signal_ids: set[str]) -> None:
        self._dedupe.remember(signal_ids)

    async def _hold(self, msg: RouterInput) -> None:
        wall = utc_now()
        arrival = arrival_of(msg)
        try:
            if isinstance(msg, ProducedSignal):
                signal = msg.signal
            else:
                signal = parse_signal(msg.line, sized_entries=self.sized_entries)
        except BadSignal as exc:
            ack = Ack(id=exc.signal_id, status="rejected", reason=str(exc))
            await record_then_ack(self.journal, arrival, ack, wall)
            return
        route = self._dedupe.route(signal)
        if isinstance(route, Duplicate):
            ack = Ack(id=signal.id, status="duplicate", reason=route.reason)
            await record_then_ack(self.journal, arrival, ack, wall)
            return
        self._held_at[signal.id] = trio.current_time()
        log.info("signal %s held until the startup gate passes", signal.id)
        ack = Ack(id=signal.id, status="accepted", reason=HELD_UNTIL_READY)
        await record_then_ack(self.journal, arrival, ack, wall)


def hold_age(
    signal_id: str,
    accepted_at: datetime,
    held_at: Mapping[str, float],
    *,
    now: float,
    wall: datetime,
) -> float:
    """Seconds a held signal has waited: by trio's clock if held in this run, else (held
    before a crash) by the wall clock, the only one that spans processes."""
    if signal_id in held_at:
        return now - held_at[signal_id]
    return (wall - accepted_at).total_seconds()
