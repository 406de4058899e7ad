"""Order pacing and the runaway breaker. Pure: they take the time, never read it.

``max_orders_per_second`` / ``max_orders_per_minute`` count every order sent, risk-reducing ones
and exits included. An approved order is not on the wire yet (the venue's request budget may
hold it back, a 429's Retry-After for one): it takes its room from its approval as if sent that
instant, every instant, until its executor says the POST is done; it counts as sent then. So
orders the budget released together never reach the venue above the caps. An order over the rate
is not refused: it is parked and decided once the window has room, protective orders first, then
in arrival order; an executor asks for one order at a time, so each symbol's own order is kept.

Pacing alone would let a runaway strategy queue without end; the breaker watches for one: a
paced backlog past ``breaker_backlog`` (parked orders and the signals queued behind them at
their executors), or an offered rate above ``breaker_ratio`` times the per-second cap for
``breaker_seconds``. It latches until ``resume``.
"""

from __future__ import annotations

import bisect
from collections import deque
from typing import TYPE_CHECKING, Generic, TypeVar

import attrs

if TYPE_CHECKING:
    from actors.records import RunawayCause
    from actors.risk.limits import RiskLimits

T = TypeVar("T")

SECOND = 1.0
MINUTE = 60.0


@attrs.define
class SendWindow:
    """The times of the orders sent in the last minute, for the per-second and per-minute
    caps."""

    _sent: deque[float] = attrs.field(factory=deque)
    # Approved orders not posted yet, by client id, with their approval time.
    _held: dict[str, float] = attrs.field(factory=dict)

    def count(self, now: float) -> None:
        self._sent.append(now)

    def hold(self, client_order_id: str, now: float) -> None:
        """Approved: it takes a place now and keeps it until ``posted``."""
        self._held[client_order_id] = now

    def posted(self, client_order_id: str, now: float | None) -> None:
        """Its POST is done (or it ended without one): it counts as sent at ``now`` (None:
        the time is not known, at its approval)."""
        held = self._held.pop(client_order_id, None)
        if held is not None:
            bisect.insort(self._sent, held if now is None else now)

    def sent_within(self, seconds: float, now: float) -> int:
        return sum(1 for at in self._sent if now - at < seconds)

    def next_room(self, limits: RiskLimits, now: float) -> float:
        """The earliest time (``now`` or later) at which one more order keeps both caps."""
        self._forget_before(now)
        at = now
        for cap, span in (
            (limits.max_orders_per_second, SECOND),
            (limits.max_orders_per_minute, MINUTE),
        ):
            if cap is None:
                continue
            # A held order is on its way out at any instant: counted as sent now.
            inside = [t for t in self._sent if now - t < span] + [now] * len(self._held)
            if len(inside) >= cap:
                # The send ``cap`` places back leaves the window then, making room.
                at = max(at, inside[len(inside) - cap] + span)
        return at

    def _forget_before(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= MINUTE:
            self._sent.popleft()
        # One held a minute without word from its executor (an approval it never acted on)
        # must not take its place for ever.
        for cid in [c for c, at in self._held.items() if now - at >= MINUTE]:
            del self._held[cid]


@attrs.define
class Parking(Generic[T]):
    """Requests waiting for room in the window: protective ones first, each kind in arrival
    order."""

    _protective: deque[T] = attrs.field(factory=deque)
    _entries: deque[T] = attrs.field(factory=deque)

    def __len__(self) -> int:
        return len(self._protective) + len(self._entries)

    @property
    def entries(self) -> int:
        return len(self._entries)

    def park(self, item: T, *, protective: bool) -> None:
        (self._protective if protective else self._entries).append(item)

    def ahead_of(self, *, protective: bool) -> int:
        """How many wait ahead of a request of this kind arriving now."""
        return len(self._protective) if protective else len(self)

    def pop(self) -> T | None:
        if self._protective:
            return self._protective.popleft()
        if self._entries:
            return self._entries.popleft()
        return None

    def peek(self) -> list[T]:
        return [*self._protective, *self._entries]

    def return_entries(self, items: list[T]) -> None:
        self._entries.extendleft(reversed(items))

    def take_entries(self) -> list[T]:
        """Every parked entry, off the queue (to be decided at once: the breaker tripped or
        trading halted, and they are denied rather than left waiting)."""
        taken = list(self._entries)
        self._entries.clear()
        return taken


@attrs.define
class RunawayBreaker:
    """Trips on a backlog or a sustained offered rate past the limits; latched until reset."""

    tripped: RunawayCause | None = None
    detail: str = ""
    # (time, signals) offered within the last second.
    _offered: deque[tuple[float, int]] = attrs.field(factory=deque)
    _over_since: float | None = None

    def observe_backlog(self, backlog: int, limits: RiskLimits) -> bool:
        """True if this backlog trips the breaker now."""
        bound = backlog_bound(limits)
        if self.tripped is not None or bound is None or backlog <= bound:
            return False
        self.tripped = "backlog"
        self.detail = f"{backlog} orders waiting for the rate limits, more than {bound}"
        return True

    def observe_offered(self, signals: int, now: float, limits: RiskLimits) -> bool:
        """Count ``signals`` offered at ``now``; True if the rate sustained trips the breaker."""
        per_second = limits.max_orders_per_second
        if per_second is None or limits.breaker_ratio is None:
            return False
        if signals > 0:
            self._offered.append((now, signals))
        while self._offered and now - self._offered[0][0] >= SECOND:
            self._offered.popleft()
        rate = sum(n for _, n in self._offered)
        threshold = limits.breaker_ratio * per_second
        if rate <= threshold:
            self._over_since = None
            return False
        if self._over_since is None:
            self._over_since = now
        if self.tripped is not None or now - self._over_since < limits.breaker_seconds:
            return False
        self.tripped = "offered_rate"
        self.detail = (
            f"more than {threshold:g} signals a second offered for {limits.breaker_seconds:g}s "
            f"(cap {per_second}/s)"
        )
        return True

    def restore(self, cause: RunawayCause | None) -> None:
        self.tripped = cause
        self.detail = "latched before the restart" if cause is not None else ""

    def reset(self) -> None:
        self.tripped, self.detail, self._over_since = None, "", None
        self._offered.clear()


def backlog_bound(limits: RiskLimits) -> int | None:
    """``breaker_backlog``, or by default a minute's allowance (None: no bound)."""
    if limits.breaker_backlog is not None:
        return limits.breaker_backlog
    if limits.max_orders_per_minute is not None:
        return limits.max_orders_per_minute
    if limits.max_orders_per_second is not None:
        return limits.max_orders_per_second * 60
    return None


@attrs.frozen
class Parked(Generic[T]):
    item: T
    waiting: int  # signals queued behind it at its executor when it was parked


@attrs.define
class OrderPacer(Generic[T]):
    """The window, the requests parked for room in it, and the breaker watching both."""

    window: SendWindow = attrs.field(factory=SendWindow)
    breaker: RunawayBreaker = attrs.field(factory=RunawayBreaker)
    _parking: Parking[Parked[T]] = attrs.field(factory=Parking)

    @property
    def parked(self) -> int:
        return len(self._parking)

    def backlog(self) -> int:
        """Orders waiting for the rate limits, with the signals queued behind them."""
        parked = self._parking.peek()
        return len(parked) + sum(p.waiting for p in parked)

    def may_go_now(self, limits: RiskLimits, now: float, *, protective: bool) -> bool:
        """Room in the window, and nothing of its rank or above waits ahead of it."""
        if self._parking.ahead_of(protective=protective):
            return False
        return self.window.next_room(limits, now) <= now

    def park(self, item: T, waiting: int, *, protective: bool) -> None:
        self._parking.park(Parked(item, waiting), protective=protective)

    def pop_due(self, limits: RiskLimits, now: float) -> T | None:
        """The first parked request, if the window has room for it now."""
        if not self._parking or self.window.next_room(limits, now) > now:
            return None
        parked = self._parking.pop()
        return None if parked is None else parked.item

    def next_due(self, limits: RiskLimits, now: float) -> float | None:
        """When the first parked request gets its room (None: nothing is parked)."""
        return self.window.next_room(limits, now) if self._parking else None

    def take_entries(self) -> list[Parked[T]]:
        return self._parking.take_entries()

    def return_entries(self, kept: list[Parked[T]]) -> None:
        """Park again, ahead of the rest and in their order, entries taken but kept."""
        self._parking.return_entries(kept)
