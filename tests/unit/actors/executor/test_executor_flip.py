"""Orders across zero go out as two legs: to zero first, then the rest from zero."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from actors.executor.core import SymbolExecutor
from actors.executor.core_flip import crosses_zero
from actors.executor.effects import (
    Alert,
    AskRisk,
    Effect,
    RecordInJournal,
    Release,
    Submit,
    SubmitFailed,
    SubmitOutcome,
)
from actors.flips import resume_goal
from actors.ids import client_order_id_for
from actors.messages import (
    AdoptOutsideFill,
    Approved,
    Denied,
    ExecuteSignal,
    ResendIntent,
    ResumeFlip,
    parse_signal,
)
from actors.order_state import State
from actors.position import ConfirmedPosition
from actors.reconciler.core import RESEND_WINDOW, PendingFlip, decide_resumes
from actors.records import IntentRecorded, OrderFailure, OrderRefused, RiskDenied, SignalRecorded
from brokers.base import OrderEvent, OrderRequest, OrderStatus, OrderType, Side
from tests.builders import T0, request, unread_replies, update, venue_order


def signal(line: str) -> ExecuteSignal:
    parsed = parse_signal(line, sized_entries=True)
    return ExecuteSignal(
        source="test", raw="", signal=parsed, reply=unread_replies(), received_at=T0
    )


def only(effects: list[Effect], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in effects if isinstance(e, kind)]


def records(effects: list[Effect]) -> list[object]:
    return [r for j in only(effects, RecordInJournal) for r in j.records]


def acks(effects: list[Effect]) -> list[tuple[str, str | None]]:
    return [(j.ack[1].status, j.ack[1].reason) for j in only(effects, RecordInJournal) if j.ack]


def long_5() -> SymbolExecutor:
    return SymbolExecutor("AAPL", ConfirmedPosition(qty=D(5), avg_entry_price=D(100)))


def approve(ex: SymbolExecutor, ask: AskRisk, qty: D | None = None) -> list[Effect]:
    cid = ask.request.client_order_id
    return ex.handle(Approved(client_order_id=cid, reserved=D(0), qty=qty), 0, T0)


def fill(ex: SymbolExecutor, req: OrderRequest, qty: str, status: OrderStatus) -> list[Effect]:
    """The venue reports the order filled ``qty`` in all (cumulative), at 100."""
    event = OrderEvent.FILL if status is OrderStatus.FILLED else OrderEvent.PARTIAL_FILL
    order = ex.order(req.client_order_id)
    assert order is not None
    new = str(D(qty) - order.filled_qty)
    msg = update(req, event, status, qty, "100", (f"x-{req.client_order_id}-{qty}", new, "100"))
    return ex.handle(msg, 0, T0)


def first_leg(ex: SymbolExecutor, line: str) -> tuple[AskRisk, list[Effect]]:
    (ask,) = only(ex.handle(signal(line), 0, T0), AskRisk)
    return ask, approve(ex, ask)


TARGET = '{"id":"rev","symbol":"AAPL","action":"target","target_qty":-3}'


def test_crosses_zero_only_past_the_position() -> None:
    """Selling the whole long, or less, never crosses; selling more does; flat never does."""
    sell = request(side=Side.SELL, qty="5")
    assert not crosses_zero(D(5), sell)
    assert not crosses_zero(D(6), sell)
    assert crosses_zero(D(4), sell)
    assert not crosses_zero(D(0), sell)
    assert crosses_zero(D(-1), request(side=Side.BUY, qty="2"))


def test_a_target_across_zero_sells_the_long_first_and_opens_the_short_once_flat() -> None:
    """Long 5, target -3: SELL 5 (the flat leg), and only after it filled SELL 3 (open)."""
    ex = long_5()
    ask, sent = first_leg(ex, TARGET)
    first = ask.request
    assert first.client_order_id == client_order_id_for("rev", "flat")
    assert (first.side, first.qty) == (Side.SELL, D(5))
    assert ask.position_qty == D(5)  # asked as a reduction of the long
    assert acks(sent) == [("accepted", None)]
    assert only(sent, Submit) == [Submit(first, protective=True)]
    # Nothing more until the first leg is final.
    partial = fill(ex, first, "2", OrderStatus.PARTIALLY_FILLED)
    assert not only(partial, AskRisk)
    assert not ex.idle
    done = fill(ex, first, "5", OrderStatus.FILLED)
    assert ex.position.qty == 0
    (ask2,) = only(done, AskRisk)
    second = ask2.request
    assert second.client_order_id == client_order_id_for("rev", "open")
    assert (second.side, second.qty, second.order_type) == (Side.SELL, D(3), OrderType.MARKET)
    assert ask2.position_qty == 0  # an entry from flat, checked like any entry
    opened = approve(ex, ask2)
    assert acks(opened) == []  # acked once, when the first leg went out
    intents = [r for r in records(opened) if isinstance(r, IntentRecorded)]
    assert [(i.signal_id, i.leg, i.request) for i in intents] == [("rev", "open", second)]
    assert only(opened, Submit) == [Submit(second)]
    fill(ex, second, "3", OrderStatus.FILLED)
    assert ex.position.qty == D(-3)
    assert ex.idle


def test_a_sell_across_zero_is_two_legs_and_its_exits_ride_on_the_open_leg() -> None:
    """Long 5, sell 8 with exits: SELL 5 without exits, then SELL 3 with the take-profit and
    stop-loss (the venue's legs guard the short 3, never the long being sold)."""
    ex = long_5()
    line = '{"id":"s8","symbol":"AAPL","action":"sell","qty":8,"take_profit":90,"stop_loss":110}'
    ask, _ = first_leg(ex, line)
    first = ask.request
    assert first.client_order_id == client_order_id_for("s8", "flat")
    assert (first.side, first.qty, first.take_profit, first.stop_loss) == (
        Side.SELL,
        D(5),
        None,
        None,
    )
    (ask2,) = only(fill(ex, first, "5", OrderStatus.FILLED), AskRisk)
    second = ask2.request
    assert (second.side, second.qty) == (Side.SELL, D(3))
    assert (second.take_profit, second.stop_loss) == (D(90), D(110))
    approve(ex, ask2)
    protection = ex.protection.current
    assert protection is not None
    assert (protection.entry, protection.exit_side) == (second.client_order_id, Side.BUY)


def test_a_buy_across_a_short_covers_it_then_goes_long() -> None:
    """Short 2, buy 6: BUY 2, then BUY 4."""
    ex = SymbolExecutor("AAPL", ConfirmedPosition(qty=D(-2), avg_entry_price=D(100)))
    ask, _ = first_leg(ex, '{"id":"b6","symbol":"AAPL","action":"buy","qty":6}')
    assert (ask.request.side, ask.request.qty) == (Side.BUY, D(2))
    (ask2,) = only(fill(ex, ask.request, "2", OrderStatus.FILLED), AskRisk)
    assert (ask2.request.side, ask2.request.qty) == (Side.BUY, D(4))


def test_a_first_leg_that_fills_partly_stops_the_signal_and_the_journal_says_why() -> None:
    """The to-zero leg is canceled after 2 of 5: the position is long 3, not flat, so the
    open leg is never sent (it would over-trade); the signal is journaled incomplete."""
    ex = long_5()
    ask, _ = first_leg(ex, TARGET)
    fill(ex, ask.request, "2", OrderStatus.PARTIALLY_FILLED)
    msg = update(ask.request, OrderEvent.CANCELED, OrderStatus.CANCELED, "2", "100")
    effects = ex.handle(msg, 0, T0)
    assert ex.position.qty == D(3)
    assert not only(effects, AskRisk)
    assert not only(effects, Submit)
    (why,) = [r for r in records(effects) if isinstance(r, SignalRecorded)]
    assert (why.signal_id, why.status) == ("rev", "incomplete")
    assert why.reason is not None
    assert "canceled with 2 of 5 filled" in why.reason
    assert "the position is 3, not flat" in why.reason
    assert only(effects, Alert)
    assert ex.idle


def test_a_refused_first_leg_sends_nothing_more() -> None:
    """The venue refuses the to-zero leg: still long 5, no open leg, the signal incomplete."""
    ex = long_5()
    ask, _ = first_leg(ex, TARGET)
    cid = ask.request.client_order_id
    effects = ex.handle(
        SubmitFailed(client_order_id=cid, outcome=SubmitOutcome.REJECTED, reason="403"), 0, T0
    )
    assert ex.position.qty == D(5)
    assert not only(effects, AskRisk)
    assert [r.status for r in records(effects) if isinstance(r, SignalRecorded)] == ["incomplete"]
    assert ex.idle


def test_a_first_leg_short_of_its_size_opens_from_flat_when_the_position_is_flat() -> None:
    """The to-zero leg fills 4 of 5 and an exit elsewhere takes the last one: the position is
    flat, so the open leg is sized from it (to the goal, -3), never from the plan."""
    ex = long_5()
    ask, _ = first_leg(ex, TARGET)
    fill(ex, ask.request, "4", OrderStatus.PARTIALLY_FILLED)
    # A fill of some other order the executor follows (an adopted one) sells the last share.
    other = request("td-x-close", side=Side.SELL, qty="1")
    ex.adopt(update(other, OrderEvent.NEW, OrderStatus.NEW).order)
    fill(ex, other, "1", OrderStatus.FILLED)
    msg = update(ask.request, OrderEvent.CANCELED, OrderStatus.CANCELED, "4", "100")
    (ask2,) = only(ex.handle(msg, 0, T0), AskRisk)
    assert ex.position.qty == 0
    assert (ask2.request.side, ask2.request.qty) == (Side.SELL, D(3))


def test_a_denied_open_leg_leaves_the_position_flat_and_is_journaled() -> None:
    """RiskGuard refuses the open leg (an entry): flat, no order, RiskDenied and the signal
    journaled incomplete; no second ack (the signal was acked once)."""
    ex = long_5()
    ask, _ = first_leg(ex, TARGET)
    (ask2,) = only(fill(ex, ask.request, "5", OrderStatus.FILLED), AskRisk)
    cid = ask2.request.client_order_id
    effects = ex.handle(Denied(client_order_id=cid, code="halted", detail="halted"), 0, T0)
    assert acks(effects) == []
    kinds = [(type(r).__name__, getattr(r, "status", None)) for r in records(effects)]
    assert ("RiskDenied", None) in kinds
    assert ("SignalRecorded", "incomplete") in kinds
    assert any(isinstance(r, RiskDenied) for r in records(effects))
    assert not only(effects, Submit)
    assert ex.position.qty == 0
    assert ex.idle


def test_a_denied_first_leg_is_a_rejected_ack_and_no_open_leg() -> None:
    """RiskGuard refuses the to-zero leg: the signal is acked rejected and nothing follows."""
    ex = long_5()
    (ask,) = only(ex.handle(signal(TARGET), 0, T0), AskRisk)
    cid = ask.request.client_order_id
    effects = ex.handle(Denied(client_order_id=cid, code="x", detail="y"), 0, T0)
    assert acks(effects) == [("rejected", "risk: x: y")]
    assert not only(effects, AskRisk)
    assert ex.idle


def test_a_limit_order_across_zero_is_refused_with_the_reason() -> None:
    """A limit sell past the long could leave its first leg resting for days with the
    second waiting: refused with a clear reason, nothing sent."""
    ex = long_5()
    line = (
        '{"id":"l","symbol":"AAPL","action":"sell","qty":8,"order_type":"limit","limit_price":99}'
    )
    effects = ex.handle(signal(line), 0, T0)
    assert not only(effects, AskRisk)
    ((status, reason),) = acks(effects)
    assert status == "rejected"
    assert reason is not None
    assert "cannot cross zero" in reason
    assert ex.idle


def test_a_sell_the_size_of_the_long_is_one_order() -> None:
    """Selling exactly the held 5 reaches zero and crosses nothing: one order."""
    ex = long_5()
    ask, _ = first_leg(ex, '{"id":"s5","symbol":"AAPL","action":"sell","qty":5}')
    assert (ask.request.side, ask.request.qty) == (Side.SELL, D(5))
    assert not only(fill(ex, ask.request, "5", OrderStatus.FILLED), AskRisk)
    assert ex.position.qty == 0
    assert ex.idle


def test_a_sell_sized_past_the_long_is_split_after_approval() -> None:
    """A sell with no qty that RiskGuard sizes to 8 from long 5 goes out as SELL 5 (its
    reservation kept until it is final), then SELL 3 with a fixed size."""
    ex = long_5()
    (ask,) = only(ex.handle(signal('{"id":"z","symbol":"AAPL","action":"sell"}'), 0, T0), AskRisk)
    assert ask.size_by_policy
    sent = approve(ex, ask, qty=D(8))
    (submit,) = only(sent, Submit)
    assert (submit.request.side, submit.request.qty) == (Side.SELL, D(5))
    (ask2,) = only(fill(ex, submit.request, "5", OrderStatus.FILLED), AskRisk)
    assert (ask2.request.qty, ask2.size_by_policy) == (D(3), False)


def test_a_limit_sell_sized_past_the_long_is_refused_and_its_reservation_released() -> None:
    """Sized to 8 from long 5, a limit sell cannot be split: denied locally, reservation
    given back, acked rejected."""
    ex = long_5()
    line = '{"id":"zl","symbol":"AAPL","action":"sell","order_type":"limit","limit_price":99}'
    (ask,) = only(ex.handle(signal(line), 0, T0), AskRisk)
    effects = approve(ex, ask, qty=D(8))
    assert not only(effects, Submit)
    assert only(effects, Release) == [Release(ask.request.client_order_id)]
    ((status, _),) = acks(effects)
    assert status == "rejected"
    order = ex.order(ask.request.client_order_id)
    assert order is not None
    assert order.state is State.DENIED
    # The journal names it: the size RiskGuard gave, and why it never went out.
    (refused,) = [
        r for e in only(effects, RecordInJournal) for r in e.records if isinstance(r, OrderRefused)
    ]
    assert (refused.signal_id, refused.side, refused.qty) == ("zl", Side.SELL, D(8))
    assert (refused.state, refused.code) == ("denied", OrderFailure.CANNOT_CROSS_ZERO)
    assert refused.detail.startswith("a limit order cannot cross zero")
    assert ex.idle


def test_a_close_never_splits() -> None:
    """A close is sized to the position: one order, never an open leg."""
    ex = long_5()
    ask, _ = first_leg(ex, '{"id":"c","symbol":"AAPL","action":"close"}')
    assert ask.request.client_order_id == client_order_id_for("c", "close")
    assert not only(fill(ex, ask.request, "5", OrderStatus.FILLED), AskRisk)
    assert ex.idle


def test_the_goal_of_an_interrupted_signal_follows_from_its_flat_leg() -> None:
    """After a restart the flat leg says where the position stood: SELL 5 means it was long
    5, so target -3 and sell 8 both end short 3; anything else is no flat leg of this signal."""
    flat = OrderRequest(
        client_order_id=client_order_id_for("rev", "flat"), symbol="AAPL", side=Side.SELL, qty=D(5)
    )
    target = parse_signal(TARGET)
    assert resume_goal(target, flat) == D(-3)
    sell = parse_signal('{"id":"rev","symbol":"AAPL","action":"sell","qty":8}')
    assert resume_goal(sell, flat) == D(-3)
    other = parse_signal('{"id":"other","symbol":"AAPL","action":"target","target_qty":-3}')
    assert resume_goal(other, flat) is None
    # Not across zero from long 5: never a flat leg of a flip, so nothing to resume.
    small = parse_signal('{"id":"rev","symbol":"AAPL","action":"sell","qty":2}')
    assert resume_goal(small, flat) is None


def test_a_resumed_signal_waits_for_its_resent_flat_leg_then_opens() -> None:
    """At startup the flat leg is resent, then the signal resumed: the open leg goes out
    only once the flat leg filled and the position is flat."""
    ex = long_5()
    signal_ = parse_signal(TARGET)
    flat = OrderRequest(
        client_order_id=client_order_id_for("rev", "flat"), symbol="AAPL", side=Side.SELL, qty=D(5)
    )
    assert only(ex.handle(ResendIntent(request=flat), 0, T0), Submit) == [
        Submit(flat, protective=True)
    ]
    resume = ResumeFlip(symbol="AAPL", signal=signal_, flat_leg=flat.client_order_id, goal=D(-3))
    assert not only(ex.handle(resume, 0, T0), AskRisk)
    assert not ex.idle
    (ask,) = only(fill(ex, flat, "5", OrderStatus.FILLED), AskRisk)
    assert (ask.request.client_order_id, ask.request.side, ask.request.qty) == (
        client_order_id_for("rev", "open"),
        Side.SELL,
        D(3),
    )


def test_a_resumed_signal_whose_flat_leg_ended_before_the_restart_opens_at_once() -> None:
    """The flat leg filled before the crash: the executor starts flat and opens the rest."""
    ex = SymbolExecutor("AAPL")
    flat_leg = client_order_id_for("rev", "flat")
    resume = ResumeFlip(symbol="AAPL", signal=parse_signal(TARGET), flat_leg=flat_leg, goal=D(-3))
    (ask,) = only(ex.handle(resume, 0, T0), AskRisk)
    assert (ask.request.side, ask.request.qty, ask.position_qty) == (Side.SELL, D(3), D(0))


def test_a_resumed_signal_away_from_flat_sends_nothing() -> None:
    """The venue says long 2 at restart (the flat leg filled 3 of 5): nothing is opened."""
    ex = SymbolExecutor("AAPL", ConfirmedPosition(qty=D(2), avg_entry_price=D(100)))
    flat_leg = client_order_id_for("rev", "flat")
    resume = ResumeFlip(symbol="AAPL", signal=parse_signal(TARGET), flat_leg=flat_leg, goal=D(-3))
    effects = ex.handle(resume, 0, T0)
    assert not only(effects, AskRisk)
    assert [r.status for r in records(effects) if isinstance(r, SignalRecorded)] == ["incomplete"]
    assert ex.idle


def test_only_young_interruptions_are_resumed() -> None:
    """Within the resend window the open leg follows; later the position is left flat."""
    flat = OrderRequest(
        client_order_id=client_order_id_for("rev", "flat"), symbol="AAPL", side=Side.SELL, qty=D(5)
    )
    pending = PendingFlip(signal=parse_signal(TARGET), request=flat, created_at=T0)
    (resume,) = decide_resumes([pending], T0 + RESEND_WINDOW)
    assert (resume.symbol, resume.flat_leg, resume.goal) == ("AAPL", flat.client_order_id, D(-3))
    assert decide_resumes([pending], T0 + RESEND_WINDOW + timedelta(seconds=1)) == ()


def test_a_symbol_halted_between_the_legs_opens_nothing() -> None:
    """Exits failed and halted the symbol while the flat leg worked: new entries are refused,
    so the open leg is not asked for; the signal is journaled incomplete, saying why."""
    ex = long_5()
    ask, _ = first_leg(ex, TARGET)
    ex.protection.halted = "exits could not be placed (refused)"
    effects = fill(ex, ask.request, "5", OrderStatus.FILLED)
    assert not only(effects, AskRisk)
    (why,) = [r for r in records(effects) if isinstance(r, SignalRecorded)]
    assert why.status == "incomplete"
    assert "symbol halted" in (why.reason or "")


def test_a_flat_leg_found_after_a_crash_is_never_followed_by_a_whole_entry() -> None:
    # Short 5, "buy 8": the flat leg (buy 5) went out and filled, then a crash before its
    # intent was durable. Startup finds the order (remembered, no signal on it) and the
    # position flat; the signal comes again. Sized from flat it would be an entry of 8.
    ex = SymbolExecutor("AAPL", ConfirmedPosition())
    flat = request(cid=client_order_id_for("s-8", "flat"), side=Side.BUY, qty="5")
    ex.remember(venue_order(flat, OrderStatus.FILLED, filled="5", avg="100"))
    effects = ex.handle(signal('{"id":"s-8","symbol":"AAPL","action":"buy","qty":8}'), 0, T0)
    assert only(effects, AskRisk) == []
    assert acks(effects) == [("duplicate", "order already exists")]
    (incomplete,) = [
        r for r in records(effects) if isinstance(r, SignalRecorded) and r.status == "incomplete"
    ]
    assert "flat leg was found after a restart" in (incomplete.reason or "")
    (intent,) = [r for r in records(effects) if isinstance(r, IntentRecorded)]
    assert (intent.signal_id, intent.leg) == ("s-8", "flat")
    assert ex.idle


def test_a_target_whose_entry_leg_is_known_is_a_duplicate_whatever_the_position() -> None:
    ex = SymbolExecutor("AAPL", ConfirmedPosition(qty=D(-2), avg_entry_price=D(100)))
    entry = request(cid=client_order_id_for("t-1", "target"), side=Side.BUY, qty="3")
    ex.remember(venue_order(entry, OrderStatus.FILLED, filled="3", avg="100"))
    line = '{"id":"t-1","symbol":"AAPL","action":"target","target_qty":1}'
    effects = ex.handle(signal(line), 0, T0)
    assert only(effects, AskRisk) == []
    assert acks(effects) == [("duplicate", "order already exists")]


def test_an_open_leg_approved_after_the_position_left_flat_is_not_sent() -> None:
    ex = long_5()
    ask, _ = first_leg(ex, TARGET)
    (open_ask,) = only(fill(ex, ask.request, "5", OrderStatus.FILLED), AskRisk)
    # A buy of 2 placed outside tradingd fills while RiskGuard decides on the open leg.
    bought = venue_order(request("manual-1", qty="2"), OrderStatus.FILLED, "2", "100")
    ex.handle(AdoptOutsideFill(order=bought, reply=unread_replies()), 0, T0)
    effects = approve(ex, open_ask)
    assert only(effects, Submit) == []
    assert [r.client_order_id for r in only(effects, Release)] == [open_ask.request.client_order_id]
    (stopped,) = [
        r for r in records(effects) if isinstance(r, SignalRecorded) and r.status == "incomplete"
    ]
    assert "moved to 2 before the open leg went out" in (stopped.reason or "")
    assert ex.position.qty == D(2)
    assert ex.idle
