"""One venue's request budget, pure: who may send now, and when the next may.

Every REST call to a venue asks the budget first (``ask``), is let through (``grant``),
and tells it when its answer came back (``finished``). The budget never lets more than
``requests`` calls reach the venue within any ``seconds``-long interval, whatever the
network's latency: a call counts from the moment it is let through until ``seconds`` after
its answer came back, so the next one arrives at least ``seconds`` after every call it
replaces. A sliding log of those moments, not a token bucket: a bucket's burst can put up to
twice its rate into a fixed window that the venue starts at the first request (Alpaca's).

The venue corrects the budget from what it says: ``Remaining`` (``X-Ratelimit-Remaining`` /
``-Reset``: never more than that many before then) and ``Pause`` (``Retry-After``, a 429, a
penalty ticket's wait: nothing non-urgent before then). Priorities (``RequestPriority``):
a waiter never holds back a more urgent one; the same priority goes first come, first
served; the last ``reserve`` slots of an allowance are kept for ``PROTECTIVE`` calls, so a
burst of reads never makes a cancel wait a minute. A reconciliation read that has waited
``overdue_after`` seconds goes before new orders and look-ups (never before cancels and
closes): a sustained flow of orders must not starve the account snapshot that risk checks
need. Time comes in as ``now`` (seconds, any monotonic origin); the core reads no clock
(``brokers.budget.pacer`` is its trio shell).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, assert_never

import attrs

from brokers.base import RequestPriority

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

NEVER = float("inf")


@attrs.frozen
class Allowance:
    """At most ``requests`` calls within any ``seconds``: Alpaca's 200 a minute; a venue
    with an hourly limit too (Tradovate) gives one of each."""

    requests: int
    seconds: float
    # Slots of this allowance only PROTECTIVE calls may take.
    reserve: int = 0

    def __attrs_post_init__(self) -> None:
        if self.requests < 1 or not self.seconds > 0:
            raise ValueError("an allowance needs requests >= 1 within seconds > 0")
        if not 0 <= self.reserve < self.requests:
            raise ValueError("an allowance's reserve must be below its requests")


@attrs.frozen
class Remaining:
    """The venue's count: ``count`` more calls before ``within`` seconds from now."""

    count: int
    within: float


@attrs.frozen
class Pause:
    """The venue asked for quiet for ``seconds``; ``urgent_too``: cancels and closes too."""

    seconds: float
    urgent_too: bool = False


Correction = Remaining | Pause


@attrs.define
class _Log:
    """One allowance's sliding log: calls in flight, and when recent ones were answered."""

    allowance: Allowance
    in_flight: int = 0
    _answered: deque[float] = attrs.field(factory=deque)

    def _forget(self, now: float) -> None:
        # Expired when answered + seconds <= now: the same expression ``frees_at`` uses,
        # so a deadline it gives is one at which the slot is free (no spin on a float).
        seconds = self.allowance.seconds
        while self._answered and self._answered[0] + seconds <= now:
            self._answered.popleft()

    def used(self, now: float) -> int:
        self._forget(now)
        return self.in_flight + len(self._answered)

    def cap(self, priority: RequestPriority) -> int:
        if priority is RequestPriority.PROTECTIVE:
            return self.allowance.requests
        return self.allowance.requests - self.allowance.reserve

    def frees_at(self, priority: RequestPriority, now: float) -> float:
        """When a slot is free for ``priority`` if nothing else happens (``now`` if one
        is; NEVER when only an answer still in flight can free one)."""
        over = self.used(now) - self.cap(priority)
        if over < 0:
            return now
        if over >= len(self._answered):
            return NEVER
        return self._answered[over] + self.allowance.seconds

    def take(self) -> None:
        self.in_flight += 1

    def answered(self, now: float, *, sent: bool) -> None:
        self.in_flight -= 1
        if sent:
            # ``now`` never goes backwards, so the log stays sorted.
            self._answered.append(now)


@attrs.define
class RequestBudget:
    """The budget of one venue (one key): ``allowances`` for every call, ``shares`` for
    one priority's calls on top (the look-ups' share: ``[monitor] lookups_per_second``)."""

    allowances: tuple[Allowance, ...]
    shares: Mapping[RequestPriority, Allowance] = attrs.field(factory=dict)
    overdue_after: float = 10.0
    _logs: list[_Log] = attrs.field(init=False)
    _share_logs: dict[RequestPriority, _Log] = attrs.field(init=False)
    # Per priority, each waiter's ticket and when it asked, in the order they asked.
    _waiting: dict[RequestPriority, OrderedDict[int, float]] = attrs.field(init=False)
    _granted: dict[int, RequestPriority] = attrs.field(factory=dict)
    _tickets: itertools.count[int] = attrs.field(factory=itertools.count)
    _pause_until: float = -NEVER  # non-urgent calls wait until then
    _urgent_pause_until: float = -NEVER  # every call waits until then
    _remaining: int = 0  # the venue's count of calls left ...
    _remaining_until: float = -NEVER  # ... before this moment

    def __attrs_post_init__(self) -> None:
        self._logs = [_Log(a) for a in self.allowances]
        self._share_logs = {p: _Log(a) for p, a in self.shares.items()}
        self._waiting = {p: OrderedDict() for p in RequestPriority}

    @classmethod
    def per_minute(cls, requests: int, *, lookups_per_second: float | None = None) -> RequestBudget:
        """Alpaca's shape: ``requests`` a minute, a twentieth (at least one) kept for
        PROTECTIVE calls; look-ups at most ``lookups_per_second`` on average."""
        minute = Allowance(requests, 60.0, reserve=min(requests - 1, max(1, requests // 20)))
        shares = {}
        if lookups_per_second is not None:
            shares[RequestPriority.LOOKUP] = rate_as_allowance(lookups_per_second)
        return cls((minute,), shares)

    # --- the calls ------------------------------------------------------------------------

    def ask(self, priority: RequestPriority, now: float) -> int:
        """A call waits its turn: its ticket, for ``grant`` to name when it may go."""
        ticket = next(self._tickets)
        self._waiting[priority][ticket] = now
        return ticket

    def withdraw(self, ticket: int) -> None:
        """A waiter gave up before it was let through (cancelled): it never counted."""
        for queue in self._waiting.values():
            queue.pop(ticket, None)

    def grant(self, now: float) -> list[int]:
        """The tickets that may send now, most urgent first, each priority in its order."""
        granted: list[int] = []
        self._let_go(RequestPriority.PROTECTIVE, now, granted)
        # Only reads are promoted: a look-up overdue is most often of an order still waiting
        # for its own turn here, and must not take that order's place.
        overdue = now - self.overdue_after
        self._let_go(RequestPriority.RECONCILE, now, granted, asked_by=overdue)
        for priority in (
            RequestPriority.NEW_ORDER,
            RequestPriority.LOOKUP,
            RequestPriority.RECONCILE,
        ):
            self._let_go(priority, now, granted)
        return granted

    def _let_go(
        self,
        priority: RequestPriority,
        now: float,
        granted: list[int],
        asked_by: float = NEVER,
    ) -> None:
        """Let ``priority``'s waiters through in order while the rules allow (only those
        that asked by ``asked_by``)."""
        queue = self._waiting[priority]
        while queue and next(iter(queue.values())) <= asked_by:
            if self._frees_at(priority, now) > now:
                return
            ticket, _ = queue.popitem(last=False)
            for log in self._logs_of(priority):
                log.take()
            if self._remaining_until > now:
                self._remaining -= 1
            self._granted[ticket] = priority
            granted.append(ticket)

    def finished(self, ticket: int, now: float, *, sent: bool = True) -> None:
        """The call let through as ``ticket`` got its answer (or failed) at ``now``;
        ``sent=False``: it was given up before anything left, so it never counted."""
        priority = self._granted.pop(ticket)
        for log in self._logs_of(priority):
            log.answered(now, sent=sent)

    def correct(self, correction: Correction, now: float) -> None:
        """What the venue said, applied from ``now`` on (after the call's ``finished``)."""
        match correction:
            case Remaining(count=count, within=within):
                # Calls still in flight may reach the venue after the one it counted.
                left = max(0, count - len(self._granted))
                until = now + within
                if until > self._remaining_until + 1.0:
                    self._remaining, self._remaining_until = left, until  # a new window
                else:
                    # Answers of one window come back out of order: the lowest count is
                    # the freshest (or the safest).
                    self._remaining = min(self._remaining, left)
                    self._remaining_until = max(self._remaining_until, until)
            case Pause(seconds=seconds, urgent_too=urgent_too):
                until = now + max(0.0, seconds)
                self._pause_until = max(self._pause_until, until)
                if urgent_too:
                    self._urgent_pause_until = max(self._urgent_pause_until, until)
            case _:
                assert_never(correction)

    def next_deadline(self, now: float) -> float:
        """When a waiter could next go if no answer comes back first (NEVER: only an
        answer can let one through, or nobody waits)."""
        waiting = [p for p, queue in self._waiting.items() if queue]
        return min((self._frees_at(p, now) for p in waiting), default=NEVER)

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    @property
    def in_flight(self) -> int:
        return len(self._granted)

    # --- the rules ------------------------------------------------------------------------

    def _logs_of(self, priority: RequestPriority) -> Iterable[_Log]:
        yield from self._logs
        share = self._share_logs.get(priority)
        if share is not None:
            yield share

    def _frees_at(self, priority: RequestPriority, now: float) -> float:
        """The earliest moment every rule lets a call of ``priority`` go (``now``: at once)."""
        at = max((log.frees_at(priority, now) for log in self._logs_of(priority)), default=now)
        paused = (
            self._urgent_pause_until
            if priority is RequestPriority.PROTECTIVE
            else max(self._pause_until, self._urgent_pause_until)
        )
        if paused > now:
            at = max(at, paused)
        if self._remaining_until > now and self._remaining <= 0:
            at = max(at, self._remaining_until)
        return at


def rate_as_allowance(per_second: float) -> Allowance:
    """A rate as the smallest whole allowance: 2.5 a second is 5 within 2 seconds."""
    if not per_second > 0:
        raise ValueError("a rate must be > 0 a second")
    if per_second >= 1:
        requests = round(per_second * 10)
        seconds = 10.0
    else:
        requests, seconds = 1, 1 / per_second
    divisor = _gcd_whole(requests, seconds)
    return Allowance(requests // divisor, seconds / divisor)


def _gcd_whole(requests: int, seconds: float) -> int:
    """The largest divisor of both ``requests`` and (a whole) ``seconds``."""
    if seconds != int(seconds):
        return 1
    a, b = requests, int(seconds)
    while b:
        a, b = b, a % b
    return max(1, a)
