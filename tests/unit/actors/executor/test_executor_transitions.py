"""Order moves: the executor's own raise when illegal, the venue's are reconciled, a repeat is
a no-op."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from actors.executor.core import SymbolExecutor
from actors.executor.core_order_book import OrderBook
from actors.executor.effects import (
    AskRisk,
    Effect,
    Lookup,
    RecordInJournal,
    Submit,
    SubmitFailed,
    SubmitOutcome,
)
from actors.messages import Approved, Denied, ExecuteSignal, parse_signal
from actors.order_state import IllegalTransition, State, TrackedOrder
from brokers.base import OrderEvent, OrderRequest, OrderStatus
from tests.builders import T0, request, unread_replies, update


def sent_buy() -> tuple[SymbolExecutor, OrderRequest]:
    """An executor whose approved buy of 2 is on its way to the venue."""
    ex = SymbolExecutor("AAPL")
    line = '{"id":"s","symbol":"AAPL","action":"buy","qty":2}'
    msg = ExecuteSignal(
        source="test", raw="", signal=parse_signal(line), reply=unread_replies(), received_at=T0
    )
    (ask,) = [e for e in ex.handle(msg, 0, T0) if isinstance(e, AskRisk)]
    ex.handle(Approved(client_order_id=ask.request.client_order_id, reserved=D(0)), 0, T0)
    return ex, ask.request


def journaled(effects: list[Effect]) -> int:
    return sum(len(e.records) for e in effects if isinstance(e, RecordInJournal))


def test_sending_a_filled_order_again_raises() -> None:
    """A move tradingd itself asks for that the table forbids (filled -> sending) is a bug."""
    order = TrackedOrder(request(), state=State.FILLED)
    with pytest.raises(IllegalTransition, match="filled to sending"):
        order.move(State.SENDING)
    assert order.state is State.FILLED


def test_denying_an_order_already_at_the_venue_raises() -> None:
    """Only an order not yet sent may be denied: denying an accepted one raises."""
    order = TrackedOrder(request(), state=State.ACCEPTED)
    with pytest.raises(IllegalTransition):
        order.move(State.DENIED, "risk: too late")
    assert order.state is State.ACCEPTED
    assert order.reason is None


def test_the_order_book_raises_on_marking_a_canceled_order_pending_cancel() -> None:
    """The book's own moves raise too, and journal nothing for the move it refused."""
    book = OrderBook("AAPL")
    order = book.track(request())
    order.state = State.CANCELED
    out: list[Effect] = []
    with pytest.raises(IllegalTransition):
        book.move(order, State.PENDING_CANCEL, T0, out)
    assert out == []


def test_a_move_to_the_state_the_order_is_in_is_a_no_op() -> None:
    """Marking an order sending (or pending cancel) twice changes and journals nothing."""
    book = OrderBook("AAPL")
    order = book.track(request())
    book.send(order, T0)
    assert order.move(State.SENDING) is False
    order.state = State.PENDING_CANCEL
    out: list[Effect] = []
    book.move(order, State.PENDING_CANCEL, T0, out)
    assert out == []
    assert order.state is State.PENDING_CANCEL


def test_a_submit_failure_after_the_stream_said_accepted_is_looked_up_not_resent() -> None:
    """The POST's 'not sent' arriving after the venue's 'new' no longer fits: a lookup
    settles it, and no second submit is ever scheduled."""
    ex, req = sent_buy()
    ex.handle(update(req, OrderEvent.NEW, OrderStatus.NEW), 0, T0)
    failed = SubmitFailed(
        client_order_id=req.client_order_id, outcome=SubmitOutcome.NOT_SENT, reason="503"
    )
    effects = ex.handle(failed, 0, T0)
    assert [e for e in effects if isinstance(e, Lookup)] == [Lookup(req.client_order_id)]
    order = ex.order(req.client_order_id)
    assert order is not None
    assert order.state is State.ACCEPTED
    assert ex.next_deadline() == float("inf")
    assert [e for e in ex.on_timer(1000, T0) if isinstance(e, Submit)] == []


def test_an_unknown_outcome_after_a_fill_is_looked_up_without_moving_back() -> None:
    """A lost POST answer for an order the stream already saw filling leaves it partially
    filled (never back to unknown) and asks the venue."""
    ex, req = sent_buy()
    fill = update(
        req, OrderEvent.PARTIAL_FILL, OrderStatus.PARTIALLY_FILLED, "1", "10", ("x", "1", "10")
    )
    ex.handle(fill, 0, T0)
    lost = SubmitFailed(
        client_order_id=req.client_order_id, outcome=SubmitOutcome.UNKNOWN, reason="reset"
    )
    effects = ex.handle(lost, 0, T0)
    assert [e for e in effects if isinstance(e, Lookup)] == [Lookup(req.client_order_id)]
    assert journaled(effects) == 0
    order = ex.order(req.client_order_id)
    assert order is not None
    assert order.state is State.PARTIALLY_FILLED
    assert ex.position.qty == D(1)
    assert ex.position.qty == D(1)


def test_a_venue_report_moving_an_order_back_is_looked_up_not_crashed_on() -> None:
    """The stream saying 'new' (nothing filled) for an order it reported partly filled does
    not fit: the order keeps its fill and state, and the venue is asked by REST."""
    ex, req = sent_buy()
    ex.handle(update(req, OrderEvent.NEW, OrderStatus.NEW), 0, T0)
    ex.handle(
        update(
            req, OrderEvent.PARTIAL_FILL, OrderStatus.PARTIALLY_FILLED, "1", "10", ("x", "1", "10")
        ),
        0,
        T0,
    )
    effects = ex.handle(update(req, OrderEvent.NEW, OrderStatus.NEW), 0, T0)
    assert [e for e in effects if isinstance(e, Lookup)] == [Lookup(req.client_order_id)]
    order = ex.order(req.client_order_id)
    assert order is not None
    assert order.state is State.PARTIALLY_FILLED
    assert ex.position.qty == D(1)


def test_a_denial_after_the_approval_leaves_the_order_on_its_way() -> None:
    """RiskGuard's word on an order already sent does not fit: ignored, the signal's order
    stays sending and its job goes on."""
    ex, req = sent_buy()
    denied = Denied(client_order_id=req.client_order_id, code="late", detail="again")
    assert ex.handle(denied, 0, T0) == []
    order = ex.order(req.client_order_id)
    assert order is not None
    assert order.state is State.SENDING
    assert ex.working is not None
