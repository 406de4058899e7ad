from __future__ import annotations

import math

import trio

from actors.messages import Watch
from actors.monitor.core import MonitorTimers, OrderMonitorCore
from brokers.base import OrderEvent, OrderStatus, OrderUpdate
from tests.builders import request, update

_INBOXES: dict[str, trio.MemorySendChannel[OrderUpdate]] = {}


def inbox(cid: str) -> trio.MemorySendChannel[OrderUpdate]:
    """The executor inbox a test's order is routed to, one per client order id."""
    if cid not in _INBOXES:
        _INBOXES[cid] = trio.open_memory_channel[OrderUpdate](math.inf)[0]
    return _INBOXES[cid]


def watched(
    *cids: str, now: float = 0.0, healthy: bool = True, **timers: float
) -> OrderMonitorCore:
    core = OrderMonitorCore(MonitorTimers(**timers), healthy=healthy)
    for cid in cids:
        core.watch(Watch(client_order_id=cid, symbol="AAPL", deliver_to=inbox(cid)), now)
    return core


def test_duplicate_events_are_dropped_and_routes_follow_the_watch() -> None:
    """The same event twice routes once; an unwatched order has no executor."""
    core = watched("td-a-entry")
    fill = update(
        request("td-a-entry"), OrderEvent.FILL, OrderStatus.FILLED, "10", "1", ("e1", "10", "1")
    )
    assert core.route(fill, 1.0) == (True, inbox("td-a-entry"))
    assert core.route(fill, 1.0) == (False, None)
    stranger = update(request("ext-1"), OrderEvent.NEW, OrderStatus.NEW)
    assert core.route(stranger, 1.0) == (True, None)


def test_final_orders_leave_the_resync_list() -> None:
    """Only orders not yet seen final are looked up again after a reconnect."""
    core = watched("a", "b")
    core.route(
        update(request("a"), OrderEvent.FILL, OrderStatus.FILLED, "10", "1", ("e", "10", "1")), 1.0
    )
    assert core.in_flight() == ["b"]


def test_an_unanswered_order_is_looked_up_at_its_deadline() -> None:
    """No word from the venue within first_answer: the order is looked up by REST, once."""
    core = watched("a", now=10.0, first_answer=5.0)
    assert core.next_deadline() == 15.0
    assert core.due_lookups(14.9) == []
    assert core.due_lookups(15.0) == ["a"]
    assert core.due_lookups(15.0) == []  # one lookup at a time per order


def test_a_working_order_is_rechecked_only_after_a_quiet_spell() -> None:
    """A stream update pushes the order's next REST check out to the recheck interval."""
    core = watched("a", now=0.0, first_answer=5.0, recheck=60.0)
    core.route(update(request("a"), OrderEvent.NEW, OrderStatus.NEW), 1.0)
    assert core.next_deadline() == 61.0


def test_a_resting_order_is_rechecked_less_and_less_often() -> None:
    """Each quiet lookup that finds the order still working doubles its wait, up to
    recheck_max; news from the stream brings it back to recheck."""
    core = watched("a", now=0.0, first_answer=5.0, recheck=60.0, recheck_max=240.0)
    lookups_at = []
    now = 0.0
    for _ in range(5):
        now = core.next_deadline()
        assert core.due_lookups(now) == ["a"]
        core.lookup_done("a")
        lookups_at.append(now)
    assert lookups_at == [5.0, 65.0, 185.0, 425.0, 665.0]
    core.route(update(request("a"), OrderEvent.NEW, OrderStatus.NEW), 700.0)
    assert core.next_deadline() == 760.0


def test_stream_down_brings_every_lookup_forward() -> None:
    """While the stream is down, in-flight orders are polled every unhealthy_poll seconds."""
    core = watched("a", "b", now=0.0, recheck=60.0, unhealthy_poll=2.0)
    for cid in ("a", "b"):
        core.route(update(request(cid), OrderEvent.NEW, OrderStatus.NEW, venue_id=cid), 0.0)
    core.set_health(False, 10.0)
    assert sorted(core.due_lookups(12.0)) == ["a", "b"]
    for cid in ("a", "b"):
        core.lookup_done(cid)
    assert core.next_deadline() == 14.0


def test_lookups_are_rate_bounded() -> None:
    """A backlog of due orders is looked up no faster than lookups_per_second."""
    cids = [f"o{i}" for i in range(25)]
    core = watched(*cids, now=0.0, first_answer=1.0, lookups_per_second=10.0)
    first = core.due_lookups(1.0)
    assert len(first) == 10
    assert core.due_lookups(1.0) == []
    assert len(core.due_lookups(1.5)) == 5


def test_every_deadline_given_yields_a_lookup() -> None:
    """Woken at the deadline it asked for, the core always has a lookup to make: it never
    asks to be woken again at the same moment with nothing done (a spin)."""
    core = watched(*(f"o{i}" for i in range(30)), now=0.0, first_answer=0.1)
    now = core.next_deadline()
    looked_up = 0
    while now != float("inf"):
        chosen = core.due_lookups(now)
        assert chosen, now
        looked_up += len(chosen)
        for cid in chosen:
            core.route(update(request(cid), OrderEvent.FILL, OrderStatus.FILLED, venue_id=cid), now)
            core.lookup_done(cid)
        now = core.next_deadline()
    assert looked_up == 30
