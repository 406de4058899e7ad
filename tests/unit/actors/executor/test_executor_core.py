from __future__ import annotations

from decimal import Decimal as D

from actors.executor.core import SymbolExecutor
from actors.executor.effects import (
    Alert,
    AskRisk,
    Cancel,
    Effect,
    Lookup,
    OrderLookedUp,
    RecordInJournal,
    Release,
    Submit,
    SubmitAccepted,
    SubmitFailed,
    SubmitOutcome,
)
from actors.ids import client_order_id_for
from actors.messages import AdoptOutsideFill, Approved, Denied, ExecuteSignal, parse_signal
from actors.order_state import State
from actors.position import ConfirmedPosition
from actors.records import FillRecorded, IntentRecorded, OrderStateRecorded, SignalRecorded
from brokers.base import OrderEvent, OrderRequest, OrderStatus, OrderType, Side
from tests.builders import T0, request, unread_replies, update, venue_order


def signal(line: str) -> ExecuteSignal:
    return ExecuteSignal(
        source="test", raw="", signal=parse_signal(line), reply=unread_replies(), received_at=T0
    )


def only(effects: list[Effect], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in effects if isinstance(e, kind)]


def acks(effects: list[Effect]) -> list[tuple[str, str | None]]:
    return [(j.ack[1].status, j.ack[1].reason) for j in only(effects, RecordInJournal) if j.ack]


def approved_buy(sid: str = "s", qty: str = "2") -> tuple[SymbolExecutor, OrderRequest]:
    """An executor whose buy has been approved and handed to the venue, and that order."""
    ex = SymbolExecutor("AAPL")
    line = f'{{"id":"{sid}","symbol":"AAPL","action":"buy","qty":{qty}}}'
    (ask,) = only(ex.handle(signal(line), 0, T0), AskRisk)
    ex.handle(Approved(client_order_id=ask.request.client_order_id, reserved=D(0)), 0, T0)
    return ex, ask.request


def buy_and_fill(ex: SymbolExecutor, sid: str, qty: str, price: str) -> None:
    effects = ex.handle(
        signal(f'{{"id":"{sid}","symbol":"AAPL","action":"buy","qty":{qty}}}'), 0, T0
    )
    (ask,) = only(effects, AskRisk)
    ex.handle(Approved(client_order_id=ask.request.client_order_id, reserved=D(0)), 0, T0)
    ex.handle(
        update(ask.request, OrderEvent.FILL, OrderStatus.FILLED, qty, price, (sid, qty, price)),
        0,
        T0,
    )


def test_buy_is_acked_after_approval_with_intent_then_sent() -> None:
    """An approved buy is journaled with its intent, acked durably, and submitted."""
    ex = SymbolExecutor("AAPL")
    effects = ex.handle(signal('{"id":"s1","symbol":"AAPL","action":"buy","qty":10}'), 0, T0)
    (ask,) = only(effects, AskRisk)
    assert ask.request.client_order_id == client_order_id_for("s1", "entry")
    assert ask.request.side is Side.BUY
    assert ask.request.qty == D(10)
    effects = ex.handle(Approved(client_order_id=ask.request.client_order_id, reserved=D(1)), 0, T0)
    (journal,) = only(effects, RecordInJournal)
    assert journal.ack is not None
    assert journal.ack[1].status == "accepted"
    assert [type(r) for r in journal.records] == [
        SignalRecorded,
        IntentRecorded,
        OrderStateRecorded,
    ]
    assert journal.records[-1].state == "sending"
    assert only(effects, Submit) == [Submit(ask.request)]


def test_fill_changes_position_and_frees_the_symbol() -> None:
    """Only a confirmed fill changes the position; then the executor is idle."""
    ex = SymbolExecutor("AAPL")
    buy_and_fill(ex, "s1", "10", "187.5")
    assert ex.position.qty == D(10)
    assert ex.position.avg_entry_price == D("187.5")
    assert ex.idle


def test_venue_rejection_is_not_a_trade() -> None:
    """A rejected submit leaves the position untouched and records a rejection (004 #2)."""
    ex, req = approved_buy("s1", "3")
    cid = req.client_order_id
    effects = ex.handle(
        SubmitFailed(client_order_id=cid, outcome=SubmitOutcome.REJECTED, reason="{}"), 0, T0
    )
    assert not only(effects, FillRecorded)
    order = ex.order(cid)
    assert order is not None
    assert order.state is State.REJECTED
    assert ex.position.qty == 0
    assert ex.idle


def test_close_of_a_short_buys_back_exactly_its_size() -> None:
    """A close derives side and size from the confirmed short: BUY 3, never SELL (004 #1)."""
    ex = SymbolExecutor("MNQ", ConfirmedPosition(qty=D(-3), avg_entry_price=D(100)))
    (ask,) = only(ex.handle(signal('{"id":"c1","symbol":"MNQ","action":"close"}'), 0, T0), AskRisk)
    assert (ask.request.side, ask.request.qty) == (Side.BUY, D(3))


def test_close_when_flat_sends_nothing_and_says_so() -> None:
    """A close against a flat position sends no order; the ack explains (004 #3)."""
    ex = SymbolExecutor("AAPL")
    effects = ex.handle(signal('{"id":"c1","symbol":"AAPL","action":"close"}'), 0, T0)
    assert not only(effects, AskRisk)
    assert not only(effects, Submit)
    assert acks(effects) == [("accepted", "no order: position is flat")]


def test_target_trades_only_the_delta() -> None:
    """A target of 15 on a position of 10 buys 5; a target of 4 sells 6."""
    ex = SymbolExecutor("AAPL", ConfirmedPosition(qty=D(10), avg_entry_price=D(1)))
    (ask,) = only(
        ex.handle(signal('{"id":"t1","symbol":"AAPL","action":"target","target_qty":15}'), 0, T0),
        AskRisk,
    )
    assert (ask.request.side, ask.request.qty) == (Side.BUY, D(5))
    ex2 = SymbolExecutor("AAPL", ConfirmedPosition(qty=D(10), avg_entry_price=D(1)))
    (ask2,) = only(
        ex2.handle(signal('{"id":"t2","symbol":"AAPL","action":"target","target_qty":4}'), 0, T0),
        AskRisk,
    )
    assert (ask2.request.side, ask2.request.qty) == (Side.SELL, D(6))


def test_second_signal_waits_for_the_first_fill_then_sizes_from_it() -> None:
    """A close queued behind a buy is acked at once and sized from the buy's fill."""
    ex, req = approved_buy("b", "4")
    queued = ex.handle(signal('{"id":"c","symbol":"AAPL","action":"close"}'), 0, T0)
    assert acks(queued) == [("accepted", "queued behind an earlier signal")]
    assert not only(queued, AskRisk)
    effects = ex.handle(
        update(req, OrderEvent.FILL, OrderStatus.FILLED, "4", "9", ("x", "4", "9")), 0, T0
    )
    (close,) = only(effects, AskRisk)
    assert (close.request.side, close.request.qty) == (Side.SELL, D(4))


def test_denial_acks_rejected_with_the_reason_code() -> None:
    """A risk denial is acked rejected with its stable code, and nothing is sent."""
    ex = SymbolExecutor("AAPL")
    (ask,) = only(
        ex.handle(signal('{"id":"s","symbol":"AAPL","action":"buy","qty":1}'), 0, T0), AskRisk
    )
    effects = ex.handle(
        Denied(
            client_order_id=ask.request.client_order_id,
            code="insufficient_buying_power",
            detail="x",
        ),
        0,
        T0,
    )
    assert acks(effects) == [("rejected", "risk: insufficient_buying_power: x")]
    assert not only(effects, Submit)
    assert ex.idle


def test_lost_response_is_looked_up_and_adopted_not_resent() -> None:
    """After an unknown outcome the order is looked up; found at the venue, it is adopted."""
    ex, req = approved_buy("s", "2")
    cid = req.client_order_id
    effects = ex.handle(
        SubmitFailed(client_order_id=cid, outcome=SubmitOutcome.UNKNOWN, reason="read timeout"),
        0,
        T0,
    )
    assert only(effects, Lookup) == [Lookup(cid)]
    filled = venue_order(req, OrderStatus.FILLED, "2", "50")
    effects = ex.handle(OrderLookedUp(client_order_id=cid, order=filled), 1, T0)
    assert not only(effects, Submit)
    assert ex.position.qty == D(2)
    assert ex.on_timer(1000, T0) == []


def test_order_the_venue_never_got_is_resent_with_the_same_id() -> None:
    """Only when the lookup finds nothing is the order resubmitted, with the same id."""
    ex, req = approved_buy("s", "2")
    cid = req.client_order_id
    ex.handle(
        SubmitFailed(client_order_id=cid, outcome=SubmitOutcome.UNKNOWN, reason="reset"), 0, T0
    )
    ex.handle(OrderLookedUp(client_order_id=cid, order=None), 0, T0)
    due = ex.next_deadline()
    assert 0 < due < 1
    assert ex.on_timer(due / 2, T0) == []
    assert only(ex.on_timer(due, T0), Submit) == [Submit(req)]


def test_duplicate_id_answer_triggers_lookup_not_rejection() -> None:
    """A 'client_order_id must be unique' answer means an earlier try got through: look up."""
    ex, req = approved_buy("s", "2")
    cid = req.client_order_id
    effects = ex.handle(
        SubmitFailed(client_order_id=cid, outcome=SubmitOutcome.DUPLICATE_ID, reason="dup"), 0, T0
    )
    assert only(effects, Lookup) == [Lookup(cid)]
    order = ex.order(cid)
    assert order is not None
    assert order.state is State.UNKNOWN


def test_rate_limited_submit_retries_after_the_venue_hint() -> None:
    """A 429 is retried after at least the venue's Retry-After, without a lookup."""
    ex, req = approved_buy("s", "2")
    cid = req.client_order_id
    effects = ex.handle(
        SubmitFailed(
            client_order_id=cid, outcome=SubmitOutcome.NOT_SENT, reason="429", retry_after=3.0
        ),
        10,
        T0,
    )
    assert not only(effects, Lookup)
    assert ex.next_deadline() >= 13.0
    assert only(ex.on_timer(ex.next_deadline(), T0), Submit) == [Submit(req)]


def test_close_cancels_working_orders_before_sizing() -> None:
    """A close first cancels the symbol's working limit order, then closes what is left."""
    ex = SymbolExecutor("AAPL", ConfirmedPosition(qty=D(5), avg_entry_price=D(10)))
    line = '{"id":"l","symbol":"AAPL","action":"buy","qty":1,"order_type":"limit","limit_price":1}'
    (ask,) = only(ex.handle(signal(line), 0, T0), AskRisk)
    assert ask.request.order_type is OrderType.LIMIT
    cid = ask.request.client_order_id
    ex.handle(Approved(client_order_id=cid, reserved=D(1)), 0, T0)
    ex.handle(SubmitAccepted(order=venue_order(ask.request, OrderStatus.NEW)), 0, T0)
    effects = ex.handle(signal('{"id":"c","symbol":"AAPL","action":"close"}'), 0, T0)
    assert only(effects, Cancel) == [Cancel(cid, "v-1")]
    assert not only(effects, AskRisk)
    effects = ex.handle(update(ask.request, OrderEvent.CANCELED, OrderStatus.CANCELED), 0, T0)
    (close,) = only(effects, AskRisk)
    assert (close.request.side, close.request.qty) == (Side.SELL, D(5))


def test_client_order_ids_are_deterministic_and_distinct_per_leg() -> None:
    """The same signal and leg always give the same id; legs differ."""
    assert client_order_id_for("abc", "entry") == client_order_id_for("abc", "entry")
    assert client_order_id_for("abc", "entry") != client_order_id_for("abc", "close")
    assert len(client_order_id_for("x" * 128, "entry")) <= 48


def sold_outside(qty: str) -> AdoptOutsideFill:
    """A sale placed outside tradingd, filled while a close waited for RiskGuard."""
    order = venue_order(
        request("manual-1", side=Side.SELL, qty=qty), OrderStatus.FILLED, qty, "100"
    )
    return AdoptOutsideFill(order=order, reply=unread_replies())


def test_a_close_approved_after_the_position_moved_is_sized_again() -> None:
    ex = SymbolExecutor("AAPL", ConfirmedPosition(qty=D(10), avg_entry_price=D(100)))
    close = signal('{"id":"c","symbol":"AAPL","action":"close"}')
    (ask,) = only(ex.handle(close, 0, T0), AskRisk)
    assert ask.request.qty == D(10)
    ex.handle(sold_outside("4"), 0, T0)
    cid = ask.request.client_order_id
    effects = ex.handle(Approved(client_order_id=cid, reserved=D(0)), 0, T0)
    # Never the 10 sized before: the reservation back, and the close asked again for 6.
    assert only(effects, Submit) == []
    assert [r.client_order_id for r in only(effects, Release)] == [cid]
    (again,) = only(effects, AskRisk)
    assert (again.request.qty, again.position_qty) == (D(6), D(6))
    effects = ex.handle(Approved(client_order_id=cid, reserved=D(0)), 0, T0)
    (submit,) = only(effects, Submit)
    assert submit.request.qty == D(6)


def test_a_close_whose_position_went_flat_meanwhile_sends_nothing() -> None:
    ex = SymbolExecutor("AAPL", ConfirmedPosition(qty=D(10), avg_entry_price=D(100)))
    (ask,) = only(ex.handle(signal('{"id":"c","symbol":"AAPL","action":"close"}'), 0, T0), AskRisk)
    ex.handle(sold_outside("10"), 0, T0)
    cid = ask.request.client_order_id
    effects = ex.handle(Approved(client_order_id=cid, reserved=D(0)), 0, T0)
    assert only(effects, Submit) == []
    assert only(effects, AskRisk) == []
    assert len(only(effects, Release)) == 1
    assert [status for status, _ in acks(effects)] == ["accepted"]
    assert ex.position.qty == 0
    assert ex.idle


def test_a_duplicate_id_the_venue_cannot_find_yet_is_looked_up_a_bounded_number_of_times() -> None:
    ex, req = approved_buy()
    cid = req.client_order_id
    effects = ex.handle(
        SubmitFailed(client_order_id=cid, outcome=SubmitOutcome.DUPLICATE_ID, reason="dup"), 0, T0
    )
    assert only(effects, Lookup) == [Lookup(cid)]
    lookups, now = 1, 0.0
    # The venue's id check says it holds the order; its lookups keep missing it.
    while True:
        effects = ex.handle(OrderLookedUp(client_order_id=cid, order=None), now, T0)
        assert only(effects, Submit) == []  # sending again meets the same refusal
        if only(effects, Alert):
            break
        now = ex.next_deadline()
        assert now < float("inf")
        effects = ex.on_timer(now, T0)
        assert only(effects, Submit) == []
        assert only(effects, Lookup) == [Lookup(cid)]
        lookups += 1
        assert lookups < 50
    assert lookups == 1 + ex.max_submit_attempts
    # Left unknown (never rejected: the venue holds it), to the monitor's lookups.
    order = ex.order(cid)
    assert order is not None
    assert order.state is State.UNKNOWN
    assert ex.next_deadline() == float("inf")
    # Once the venue shows it, its state comes in as for any order.
    found = venue_order(req, OrderStatus.FILLED, "2", "100")
    ex.handle(OrderLookedUp(client_order_id=cid, order=found), now, T0)
    assert order.state is State.FILLED
