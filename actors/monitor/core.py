"""OrderMonitor's pure core: which executor watches which order, and when to ask REST.

It de-duplicates updates, knows which executor watches which order, and keeps a REST
deadline per order: an order the venue has not answered for within ``first_answer`` seconds,
or that has been quiet for ``recheck`` seconds, is looked up by REST; while the stream is
down every in-flight order is polled every ``unhealthy_poll`` seconds. Lookups are bounded
by a token bucket so a thousand open orders never become a burst of a thousand calls.
Time comes in as ``now`` arguments: the core reads no clock and does no I/O
(``actors.monitor.task`` is its trio loop).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import trio

    from actors.messages import Watch
    from brokers.base import OrderUpdate

# How many recent update keys to remember for de-duplication; the state machines downstream
# are idempotent too, so this only saves work.
DEDUPE_WINDOW = 4096
# A token bucket refilled by float arithmetic lands a hair under 1 at the very moment it
# promised one: counting that as whole keeps the loop from waking, finding no token, and
# asking to be woken at that same moment again (a spin that a frozen test clock never ends).
WHOLE_TOKEN = 1 - 1e-9
# Routes of final orders are kept this long (in orders) for the late-fill edge: a venue may
# report a fill after the cancel that closed the order.
FINAL_ROUTES_KEPT = 10_000


def update_key(update: OrderUpdate) -> tuple[str, ...]:
    order = update.order
    if update.fill is not None:
        return (order.venue_order_id, "fill", update.fill.execution_id)
    return (order.venue_order_id, update.event.value, order.status.value, str(order.filled_qty))


@attrs.frozen
class MonitorTimers:
    first_answer: float = 5.0  # no word from the venue this long after sending: look it up
    recheck: float = 60.0  # a working order quiet this long (stream healthy): look it up
    # Each quiet lookup that finds the order still working doubles its wait, up to this: a
    # resting exit costs a handful of calls an hour, not one a minute (the venue's rate
    # limit is shared by every order of the account).
    recheck_max: float = 900.0
    unhealthy_poll: float = 2.0  # while the stream is down, poll in-flight orders this often
    # The bound on REST lookups, whatever the backlog: well under Alpaca's 200 calls a
    # minute, so submits and cancels still get through while the stream is down.
    lookups_per_second: float = 2.5
    first_connect_grace: float = 5.0  # startup waits this long for the stream, then goes on


@attrs.define
class OrderMonitorCore:
    timers: MonitorTimers = attrs.field(factory=MonitorTimers)
    healthy: bool = False
    # client_order_id -> the inbox of the executor that sent it
    _routes: dict[str, trio.MemorySendChannel[OrderUpdate]] = attrs.field(factory=dict)
    _seen: OrderedDict[tuple[str, ...], None] = attrs.field(factory=OrderedDict)
    _finished: OrderedDict[str, None] = attrs.field(factory=OrderedDict)
    _due: dict[str, float] = attrs.field(factory=dict)  # in-flight order -> next lookup at
    _quiet: dict[str, float] = attrs.field(factory=dict)  # order -> its current recheck wait
    _looking_up: set[str] = attrs.field(factory=set)
    _tokens: float = 0.0
    _tokens_at: float = 0.0

    def watch(self, msg: Watch, now: float) -> None:
        self._routes[msg.client_order_id] = msg.deliver_to
        self._finished.pop(msg.client_order_id, None)
        self._quiet.pop(msg.client_order_id, None)
        self._due[msg.client_order_id] = now + self._quiet_limit(first=True)

    def route(
        self, update: OrderUpdate, now: float
    ) -> tuple[bool, trio.MemorySendChannel[OrderUpdate] | None]:
        """(is new, the executor inbox or None when the order is not ours)."""
        cid = update.order.client_order_id
        key = update_key(update)
        if key in self._seen:
            return False, None
        self._seen[key] = None
        if len(self._seen) > DEDUPE_WINDOW:
            self._seen.popitem(last=False)
        if cid in self._routes:
            if update.order.status.is_final:
                self._finish(cid)
            elif cid in self._due:
                self._quiet.pop(cid, None)  # news: back to the shortest recheck
                self._due[cid] = now + self._quiet_limit(first=False)
        return True, self._routes.get(cid)

    def set_health(self, healthy: bool, now: float) -> None:
        self.healthy = healthy
        if not healthy:
            # Nothing will stream in: bring every in-flight order's lookup forward.
            soon = now + self.timers.unhealthy_poll
            for cid, at in self._due.items():
                self._due[cid] = min(at, soon)

    def lookup_done(self, client_order_id: str) -> None:
        self._looking_up.discard(client_order_id)

    def in_flight(self) -> list[str]:
        """Watched orders not yet seen final: the ones a re-sync must look up."""
        return list(self._due)

    def due_lookups(self, now: float) -> list[str]:
        """Orders to look up now, within the rate bound; each is re-armed for later."""
        self._refill(now)
        # Called after every message: with a thousand orders watched, most calls find
        # nothing due, and one C-level min says so without a pass in Python.
        if not self._due or min(self._due.values()) > now:
            return []
        due = sorted(
            (at, cid) for cid, at in self._due.items() if at <= now and cid not in self._looking_up
        )
        chosen = []
        for _, cid in due:
            if self._tokens < WHOLE_TOKEN:
                break
            self._tokens -= 1
            chosen.append(cid)
            self._looking_up.add(cid)
            self._due[cid] = now + self._quiet_limit(first=False, cid=cid)
            if self.healthy:
                wait = self._quiet.get(cid, self.timers.recheck)
                self._quiet[cid] = min(2 * wait, max(self.timers.recheck_max, wait))
        return chosen

    def next_deadline(self) -> float:
        if self._looking_up:
            pending = [at for cid, at in self._due.items() if cid not in self._looking_up]
        else:
            pending = list(self._due.values())  # the common case, without a pass in Python
        if not pending:
            return float("inf")
        earliest = min(pending)
        if self._tokens >= WHOLE_TOKEN:
            return earliest
        # Out of tokens: wake when one is back.
        refill_at = self._tokens_at + (1 - self._tokens) / self.timers.lookups_per_second
        return max(earliest, refill_at)

    def _quiet_limit(self, *, first: bool, cid: str | None = None) -> float:
        if not self.healthy:
            return self.timers.unhealthy_poll
        if first:
            return self.timers.first_answer
        return self._quiet.get(cid, self.timers.recheck) if cid else self.timers.recheck

    def _refill(self, now: float) -> None:
        rate = self.timers.lookups_per_second
        self._tokens = min(rate, self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now

    def _finish(self, cid: str) -> None:
        self._due.pop(cid, None)
        self._quiet.pop(cid, None)
        self._finished[cid] = None
        if len(self._finished) > FINAL_ROUTES_KEPT:
            old, _ = self._finished.popitem(last=False)
            self._routes.pop(old, None)
