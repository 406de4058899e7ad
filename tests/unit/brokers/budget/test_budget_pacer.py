"""The budget's trio shell under the autojump clock: calls wait their turn and no longer."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from brokers.base import RequestPriority as P
from brokers.budget import Allowance, Pause, RequestBudget, VenueBudget


def per_minute(requests: int, reserve: int = 0) -> VenueBudget:
    return VenueBudget(RequestBudget((Allowance(requests, 60.0, reserve=reserve),)))


async def call(
    budget: VenueBudget, priority: P, name: str, seen: list[tuple[str, float]], took: float = 0.0
) -> None:
    async with budget.slot(priority):
        seen.append((name, trio.current_time()))
        await trio.sleep(took)


async def test_calls_past_the_budget_go_a_window_after_the_answers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Three a minute, five calls answered in 1 s: three at 0, two at 61 (answers + 60)."""
    budget = per_minute(3)
    seen: list[tuple[str, float]] = []
    async with trio.open_nursery() as nursery:
        for n in range(5):
            nursery.start_soon(call, budget, P.NEW_ORDER, f"o{n}", seen, 1.0)
    assert sorted(at for _, at in seen) == [0.0, 0.0, 0.0, 61.0, 61.0]


async def test_a_close_asked_last_goes_before_every_waiting_read(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """One a minute and three reads waiting: the close asked after them goes next."""
    budget = per_minute(1)
    seen: list[tuple[str, float]] = []
    async with trio.open_nursery() as nursery:
        for n in range(3):
            nursery.start_soon(call, budget, P.RECONCILE, f"read{n}", seen)
            await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(call, budget, P.PROTECTIVE, "close", seen)
    assert seen == [("read0", 0.0), ("close", 60.0), ("read1", 120.0), ("read2", 180.0)]


async def test_a_cancelled_waiter_gives_its_turn_to_the_next(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A waiter cancelled while queued never counts; the one behind it goes at the deadline."""
    budget = per_minute(1)
    seen: list[tuple[str, float]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(call, budget, P.LOOKUP, "first", seen)
        await trio.testing.wait_all_tasks_blocked()
        with trio.CancelScope() as scope:
            scope.cancel()
            await call(budget, P.LOOKUP, "cancelled", seen)
        nursery.start_soon(call, budget, P.LOOKUP, "next", seen)
    assert seen == [("first", 0.0), ("next", 60.0)]
    assert budget.core.waiting == 0
    assert budget.core.in_flight == 0


async def test_a_call_failing_inside_its_slot_still_counts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The request may have left: its slot is used until a window after the failure."""
    budget = per_minute(1)

    async def failing_call() -> None:
        async with budget.slot(P.NEW_ORDER):
            await trio.sleep(2.0)
            raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError, match="lost"):
        await failing_call()
    async with budget.slot(P.NEW_ORDER):
        assert trio.current_time() == 62.0


async def test_a_pause_heard_in_an_answer_holds_the_rest_but_not_a_cancel(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A 429 with Retry-After 30 at 1 s: the order waits until 31 s, the cancel goes now."""
    budget = per_minute(100)
    seen: list[tuple[str, float]] = []
    async with budget.slot(P.RECONCILE) as slot:
        await trio.sleep(1.0)
        slot.heard(Pause(30.0))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(call, budget, P.NEW_ORDER, "order", seen)
        nursery.start_soon(call, budget, P.PROTECTIVE, "cancel", seen)
    assert seen == [("cancel", 1.0), ("order", 31.0)]


async def test_a_waiter_asleep_on_an_answer_wakes_at_the_deadline_that_answer_set(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Waiting with no deadline (only an answer frees a slot), then the answer comes at
    5 s: the waiter goes at 65 s, not never."""
    budget = per_minute(1)
    seen: list[tuple[str, float]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(call, budget, P.NEW_ORDER, "slow", seen, 5.0)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(call, budget, P.NEW_ORDER, "next", seen)
    assert seen == [("slow", 0.0), ("next", 65.0)]


async def test_many_symbols_waiting_never_hold_one_that_has_budget(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Look-ups past their share wait; an order asked after them goes at once."""
    core = RequestBudget((Allowance(100, 60.0),), {P.LOOKUP: Allowance(1, 10.0)})
    budget = VenueBudget(core)
    seen: list[tuple[str, float]] = []
    async with trio.open_nursery() as nursery:
        for n in range(3):
            nursery.start_soon(call, budget, P.LOOKUP, f"lookup{n}", seen)
            await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(call, budget, P.NEW_ORDER, "order", seen)
    assert seen == [("lookup0", 0.0), ("order", 0.0), ("lookup1", 10.0), ("lookup2", 20.0)]
