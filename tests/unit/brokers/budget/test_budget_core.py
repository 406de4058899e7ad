"""The request budget's pure core: its limits, the venue's corrections, and who goes first."""

from __future__ import annotations

import pytest

from brokers.base import RequestPriority as P
from brokers.budget import Allowance, Pause, Remaining, RequestBudget
from brokers.budget.core import NEVER, rate_as_allowance


def budget(
    requests: int = 3, *, reserve: int = 0, overdue_after: float = 10.0, **shares: Allowance
) -> RequestBudget:
    share = {P[name.upper()]: allowance for name, allowance in shares.items()}
    allowance = Allowance(requests, 60.0, reserve=reserve)
    return RequestBudget((allowance,), share, overdue_after=overdue_after)


def asks(core: RequestBudget, priority: P, count: int, now: float = 0.0) -> list[int]:
    return [core.ask(priority, now) for _ in range(count)]


def test_no_more_than_the_allowance_goes_while_answers_are_out() -> None:
    """Three a minute: three go at once, a fourth waits even though time passes unanswered."""
    core = budget(3)
    tickets = asks(core, P.NEW_ORDER, 4)
    assert core.grant(0.0) == tickets[:3]
    assert core.grant(500.0) == []
    assert core.next_deadline(500.0) == NEVER  # only an answer can free a slot


def test_a_slot_frees_a_full_window_after_its_answer_came_back() -> None:
    """An answer at 2.0 frees its slot at 62.0: a call never arrives within a window of it."""
    core = budget(1)
    first, second = asks(core, P.NEW_ORDER, 2)
    assert core.grant(0.0) == [first]
    core.finished(first, 2.0)
    assert core.next_deadline(2.0) == 62.0
    assert core.grant(61.9) == []
    assert core.grant(62.0) == [second]


def test_a_call_that_never_left_gives_its_slot_back_at_once() -> None:
    """``sent=False`` (connect refused, cancelled before sending): the next goes now."""
    core = budget(1)
    first, second = asks(core, P.NEW_ORDER, 2)
    core.grant(0.0)
    core.finished(first, 1.0, sent=False)
    assert core.grant(1.0) == [second]


def test_a_more_urgent_waiter_goes_first_whatever_its_arrival() -> None:
    """Reads asked first, then an order, then a close: the close, then the order, then reads."""
    core = budget(1, overdue_after=1000.0)
    reads = asks(core, P.RECONCILE, 2)
    order = core.ask(P.NEW_ORDER, 0.0)
    close = core.ask(P.PROTECTIVE, 0.0)
    seen: list[int] = []
    now = 0.0
    while len(seen) < 4:
        (ticket,) = core.grant(now)
        seen.append(ticket)
        core.finished(ticket, now)
        now += 60.0
    assert seen == [close, order, *reads]


def test_the_same_priority_goes_first_come_first_served() -> None:
    """Ten look-ups through a budget of one: in the order they asked."""
    core = budget(1)
    tickets = asks(core, P.LOOKUP, 10)
    seen: list[int] = []
    for n in range(10):
        seen += core.grant(60.0 * n)
        core.finished(seen[-1], 60.0 * n)
    assert seen == tickets


def test_a_read_overdue_goes_before_new_orders_but_not_before_a_close() -> None:
    """Orders keep coming; the read asked at 0 goes once it is 10 s overdue, after the close."""
    core = budget(1)
    read = core.ask(P.RECONCILE, 0.0)
    seen: list[int] = []
    now = 0.0
    for _ in range(3):
        core.ask(P.NEW_ORDER, now)
        if now == 60.0:
            core.ask(P.PROTECTIVE, now)
        (ticket,) = core.grant(now)
        seen.append(ticket)
        core.finished(ticket, now)
        now += 60.0
    assert seen[0] != read  # at 0 the read is not overdue: the order goes
    assert seen[1] != read  # at 60 the close goes first
    assert seen[2] == read  # at 120 the read, overdue, before the waiting orders


def test_a_withdrawn_waiter_is_never_let_through() -> None:
    """A cancelled waiter leaves the queue: the one behind it takes its turn."""
    core = budget(1)
    first, second = asks(core, P.NEW_ORDER, 2)
    core.withdraw(first)
    assert core.grant(0.0) == [second]
    assert core.waiting == 0


def test_the_reserve_is_kept_for_protective_calls() -> None:
    """Of ten with a reserve of two, reads take eight; a cancel still gets through."""
    core = budget(10, reserve=2)
    reads = asks(core, P.RECONCILE, 10)
    assert core.grant(0.0) == reads[:8]
    cancel = core.ask(P.PROTECTIVE, 0.0)
    assert core.grant(0.0) == [cancel]


def test_a_share_caps_its_priority_but_holds_back_no_other() -> None:
    """Look-ups at two a minute stop at two; the reconciliation read behind them still goes."""
    core = budget(10, lookup=Allowance(2, 60.0))
    lookups = asks(core, P.LOOKUP, 3)
    read = core.ask(P.RECONCILE, 0.0)
    assert core.grant(0.0) == [*lookups[:2], read]
    for ticket in (*lookups[:2], read):
        core.finished(ticket, 1.0)
    assert core.next_deadline(1.0) == 61.0
    assert core.grant(61.0) == [lookups[2]]


def test_a_pause_holds_everything_but_cancels_and_closes() -> None:
    """Retry-After 30 at 5.0: an order waits until 35.0, a close goes at once."""
    core = budget(10)
    core.correct(Pause(30.0), 5.0)
    order = core.ask(P.NEW_ORDER, 0.0)
    close = core.ask(P.PROTECTIVE, 0.0)
    assert core.grant(5.0) == [close]
    assert core.next_deadline(5.0) == 35.0
    assert core.grant(35.0) == [order]


def test_an_urgent_pause_holds_even_cancels() -> None:
    """A penalty that stops everything: the close waits too."""
    core = budget(10)
    core.correct(Pause(10.0, urgent_too=True), 0.0)
    close = core.ask(P.PROTECTIVE, 0.0)
    assert core.grant(9.0) == []
    assert core.grant(10.0) == [close]


def test_never_more_than_the_venue_says_remain_before_its_reset() -> None:
    """The venue says two left for 20 s (another process shares the key): two go, then 20 s."""
    core = budget(100)
    core.correct(Remaining(2, 20.0), 0.0)
    tickets = asks(core, P.NEW_ORDER, 3)
    assert core.grant(0.0) == tickets[:2]
    assert core.next_deadline(0.0) == 20.0
    assert core.grant(20.0) == [tickets[2]]


def test_calls_in_flight_count_against_what_the_venue_says_remains() -> None:
    """Two in flight when the venue says three remain: one more may go, not three."""
    core = budget(100)
    in_flight = asks(core, P.NEW_ORDER, 2)
    core.grant(0.0)
    core.correct(Remaining(3, 30.0), 0.0)
    more = asks(core, P.NEW_ORDER, 2)
    assert core.grant(0.0) == more[:1]
    assert in_flight


def test_a_stale_count_of_the_same_window_never_raises_what_remains() -> None:
    """Answers back out of order: 5 then (later, for an earlier call) 9: 5 still holds."""
    core = budget(100)
    core.correct(Remaining(5, 30.0), 0.0)
    core.correct(Remaining(9, 29.5), 0.5)
    tickets = asks(core, P.NEW_ORDER, 6)
    assert core.grant(1.0) == tickets[:5]


def test_a_new_window_replaces_the_count_of_the_old_one() -> None:
    """Zero left until 10; at 10 the venue says 50 left until 70: they go."""
    core = budget(100)
    core.correct(Remaining(0, 10.0), 0.0)
    core.correct(Remaining(50, 60.0), 10.0)
    tickets = asks(core, P.NEW_ORDER, 3)
    assert core.grant(10.0) == tickets


def test_per_minute_keeps_a_twentieth_for_protective_calls() -> None:
    """Alpaca's 200: 190 for anything, the last ten for cancels and closes."""
    core = RequestBudget.per_minute(200)
    reads = asks(core, P.RECONCILE, 200)
    assert len(core.grant(0.0)) == 190
    assert reads
    closes = asks(core, P.PROTECTIVE, 11)
    assert core.grant(0.0) == closes[:10]


@pytest.mark.parametrize(
    ("rate", "requests", "seconds"),
    [(2.5, 5, 2.0), (50.0, 50, 1.0), (0.5, 1, 2.0), (2.7, 27, 10.0), (1000.0, 1000, 1.0)],
)
def test_a_rate_becomes_the_smallest_whole_allowance(
    rate: float, requests: int, seconds: float
) -> None:
    """2.5 a second is 5 within 2 s: the same average, the smallest burst."""
    assert rate_as_allowance(rate) == Allowance(requests, seconds)


def test_an_allowance_refuses_what_cannot_be_kept() -> None:
    """No calls at all, no time, or a reserve as large as the allowance: refused."""
    for bad in ((0, 60.0, 0), (5, 0.0, 0), (5, 60.0, 5)):
        with pytest.raises(ValueError, match="allowance"):
            Allowance(bad[0], bad[1], reserve=bad[2])


def test_an_overdue_look_up_keeps_its_place_behind_new_orders() -> None:
    """A look-up waiting 60 s (of an order still waiting itself, most often) is not promoted."""
    core = budget(1)
    lookup = core.ask(P.LOOKUP, 0.0)
    core.grant(0.0)  # the look-up takes the one slot
    core.finished(lookup, 0.0)
    later = core.ask(P.LOOKUP, 0.0)
    order = core.ask(P.NEW_ORDER, 50.0)
    assert core.grant(60.0) == [order]
    assert later
