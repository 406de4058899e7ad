"""The queued-signal policy: "wait" keeps every queued signal in order; "supersede" lets a
newer signal replace the queued one, which is journaled as superseded and never trades."""

from __future__ import annotations

from decimal import Decimal as D

import msgspec

from actors.executor.core import SymbolExecutor
from actors.executor.effects import AskRisk, Effect, RecordInJournal
from actors.messages import Approved, ExecuteSignal, parse_signal
from actors.records import SignalRecorded
from brokers.base import OrderEvent, OrderRequest, OrderStatus
from tests.builders import T0, unread_replies, update


def signal(sid: str, qty: int) -> ExecuteSignal:
    body = msgspec.json.encode({"id": sid, "symbol": "AAPL", "action": "buy", "qty": qty})
    return ExecuteSignal(
        signal=parse_signal(body), reply=unread_replies(), received_at=T0, source="test", raw=""
    )


def asks(effects: list[Effect]) -> list[OrderRequest]:
    return [e.request for e in effects if isinstance(e, AskRisk)]


def signal_records(effects: list[Effect]) -> list[tuple[str | None, str, str | None]]:
    return [
        (r.signal_id, r.status, r.reason)
        for e in effects
        if isinstance(e, RecordInJournal)
        for r in e.records
        if isinstance(r, SignalRecorded)
    ]


def one_in_flight(ex: SymbolExecutor) -> OrderRequest:
    (request,) = asks(ex.handle(signal("s1", 1), 0, T0))
    ex.handle(Approved(client_order_id=request.client_order_id, reserved=D(0)), 0, T0)
    return request


def fill(ex: SymbolExecutor, request: OrderRequest) -> list[Effect]:
    qty = str(request.qty)
    done = update(request, OrderEvent.FILL, OrderStatus.FILLED, qty, "100", (qty, qty, "100"))
    return ex.handle(done, 0, T0)


def test_wait_keeps_every_queued_signal_in_order() -> None:
    """Default: s2 and s3 queue behind s1 and then trade one after the other."""
    ex = SymbolExecutor("AAPL")
    first = one_in_flight(ex)
    for sid, qty in (("s2", 2), ("s3", 3)):
        effects = ex.handle(signal(sid, qty), 0, T0)
        assert signal_records(effects) == [(sid, "accepted", "queued behind an earlier signal")]
    (second,) = asks(fill(ex, first))
    assert second.qty == 2
    ex.handle(Approved(client_order_id=second.client_order_id, reserved=D(0)), 0, T0)
    (third,) = asks(fill(ex, second))
    assert third.qty == 3


def test_supersede_replaces_the_queued_signal_with_the_newer_one() -> None:
    """s3 replaces the queued s2: s2 is journaled superseded and never asks for an order."""
    ex = SymbolExecutor("AAPL", supersede_queued=True)
    first = one_in_flight(ex)
    effects = ex.handle(signal("s2", 2), 0, T0)
    assert signal_records(effects) == [("s2", "accepted", "queued behind an earlier signal")]
    effects = ex.handle(signal("s3", 3), 0, T0)
    assert signal_records(effects) == [
        ("s2", "superseded", "superseded by s3"),
        ("s3", "accepted", "queued, superseding s2"),
    ]
    (next_order,) = asks(fill(ex, first))
    assert next_order.qty == 3
    ex.handle(Approved(client_order_id=next_order.client_order_id, reserved=D(0)), 0, T0)
    assert asks(fill(ex, next_order)) == []
    assert ex.idle


def test_supersede_never_touches_the_signal_in_flight() -> None:
    """Only a queued signal is replaced: the one being worked finishes as sent."""
    ex = SymbolExecutor("AAPL", supersede_queued=True)
    first = one_in_flight(ex)
    effects = ex.handle(signal("s2", 2), 0, T0)
    assert [r[1] for r in signal_records(effects)] == ["accepted"]
    assert ex.order(first.client_order_id) is not None
    (second,) = asks(fill(ex, first))
    assert second.qty == 2
