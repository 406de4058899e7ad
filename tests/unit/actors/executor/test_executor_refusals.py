"""Every order the executor sees end denied or rejected is journaled with what it was and
why (``OrderRefused``): its signal, leg, side, quantity, a code and the detail."""

from __future__ import annotations

from decimal import Decimal as D

from actors.executor.core import SymbolExecutor
from actors.executor.effects import (
    AskRisk,
    Effect,
    RecordInJournal,
    SubmitAccepted,
    SubmitFailed,
    SubmitOutcome,
)
from actors.messages import Approved, Denied, ExecuteSignal, parse_signal
from actors.records import OrderFailure, OrderRefused
from brokers.base import OrderEvent, OrderRequest, OrderStatus, Side
from tests.builders import T0, unread_replies, update, venue_order


def signal(line: str) -> ExecuteSignal:
    return ExecuteSignal(
        source="test", raw="", signal=parse_signal(line), reply=unread_replies(), received_at=T0
    )


def refusals(effects: list[Effect]) -> list[OrderRefused]:
    return [
        r
        for e in effects
        if isinstance(e, RecordInJournal)
        for r in e.records
        if isinstance(r, OrderRefused)
    ]


def asked(ex: SymbolExecutor, sid: str, side: str, qty: int) -> OrderRequest:
    line = f'{{"id":"{sid}","symbol":"AAPL","action":"{side}","qty":{qty}}}'
    (ask,) = [e for e in ex.handle(signal(line), 0, T0) if isinstance(e, AskRisk)]
    return ask.request


def approved(ex: SymbolExecutor, sid: str, side: str, qty: int) -> OrderRequest:
    req = asked(ex, sid, side, qty)
    ex.handle(Approved(client_order_id=req.client_order_id, reserved=D(0)), 0, T0)
    return req


def test_a_denied_order_names_its_signal_side_qty_and_the_risk_code() -> None:
    """RiskGuard's denial: the order never had an intent, the refusal carries all of it."""
    ex = SymbolExecutor("AAPL")
    req = asked(ex, "big", "buy", 7)
    denial = Denied(client_order_id=req.client_order_id, code="max_order_qty", detail="too big")
    (refused,) = refusals(ex.handle(denial, 0, T0))
    assert (refused.signal_id, refused.leg, refused.side, refused.qty) == (
        "big",
        "entry",
        Side.BUY,
        D(7),
    )
    assert (refused.state, refused.code, refused.detail) == ("denied", "max_order_qty", "too big")


def test_a_venue_refusal_of_the_post_is_venue_rejected_with_its_answer() -> None:
    """The venue refuses the POST: code venue_rejected, detail the executor's reason."""
    ex = SymbolExecutor("AAPL")
    req = approved(ex, "s", "sell", 3)
    failed = SubmitFailed(
        client_order_id=req.client_order_id,
        outcome=SubmitOutcome.REJECTED,
        reason="venue rejected (40310000): account is restricted",
    )
    (refused,) = refusals(ex.handle(failed, 0, T0))
    assert (refused.state, refused.side, refused.qty) == ("rejected", Side.SELL, D(3))
    assert refused.code == OrderFailure.VENUE_REJECTED
    assert refused.detail == "venue rejected (40310000): account is restricted"


def test_an_order_the_stream_reports_rejected_is_explained_once() -> None:
    """Taken, then rejected on the stream: one refusal naming its source; a repeat adds none."""
    ex = SymbolExecutor("AAPL")
    req = approved(ex, "s", "buy", 2)
    ex.handle(SubmitAccepted(order=venue_order(req, OrderStatus.NEW)), 0, T0)
    rejected = update(req, OrderEvent.REJECTED, OrderStatus.REJECTED)
    (refused,) = refusals(ex.handle(rejected, 0, T0))
    assert (refused.state, refused.code) == ("rejected", OrderFailure.VENUE_REJECTED)
    assert refused.detail == "the venue reported the order rejected (stream)"
    assert refusals(ex.handle(rejected, 0, T0)) == []


def test_an_order_that_fills_is_never_explained_as_refused() -> None:
    """A filled order carries no refusal."""
    ex = SymbolExecutor("AAPL")
    req = approved(ex, "s", "buy", 2)
    filled = update(req, OrderEvent.FILL, OrderStatus.FILLED, "2", "10", ("e1", "2", "10"))
    assert refusals(ex.handle(filled, 0, T0)) == []


def test_an_order_the_venue_never_took_is_not_sent_with_the_last_failure() -> None:
    """Out of reach through every retry: code not_sent, detail the last failure."""
    ex = SymbolExecutor("AAPL", max_submit_attempts=0)
    req = approved(ex, "s", "buy", 2)
    failed = SubmitFailed(
        client_order_id=req.client_order_id,
        outcome=SubmitOutcome.NOT_SENT,
        reason="venue unreachable: connection refused",
    )
    (refused,) = refusals(ex.handle(failed, 0, T0))
    assert (refused.state, refused.code) == ("rejected", OrderFailure.NOT_SENT)
    assert refused.detail == "venue unreachable: connection refused"
