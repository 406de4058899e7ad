from __future__ import annotations

from actors.order_monitor import OrderMonitorCore, Watch
from brokers.base import OrderEvent, OrderStatus
from tests.builders import request, update


def test_duplicate_events_are_dropped_and_routes_follow_the_watch() -> None:
    """The same event twice routes once; an unwatched order has no executor."""
    core = OrderMonitorCore()
    inbox = object()
    req = request("td-a-entry")
    core.watch(Watch(client_order_id="td-a-entry", symbol="AAPL", deliver_to=inbox))
    fill = update(req, OrderEvent.FILL, OrderStatus.FILLED, "10", "1", ("e1", "10", "1"))
    assert core.route(fill) == (True, inbox)
    assert core.route(fill) == (False, None)
    stranger = update(request("ext-1"), OrderEvent.NEW, OrderStatus.NEW)
    assert core.route(stranger) == (True, None)


def test_final_orders_leave_the_resync_list() -> None:
    """Only orders not yet seen final are looked up again after a reconnect."""
    core = OrderMonitorCore()
    for cid in ("a", "b"):
        core.watch(Watch(client_order_id=cid, symbol="AAPL", deliver_to=None))
    core.route(
        update(request("a"), OrderEvent.FILL, OrderStatus.FILLED, "10", "1", ("e", "10", "1"))
    )
    assert core.in_flight() == ["b"]
