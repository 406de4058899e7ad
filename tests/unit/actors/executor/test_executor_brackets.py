"""The executor core's bracket half: native legs followed, exits only for what filled, the
failure policy, and DCA moving the exits (never two live take-profits)."""

from __future__ import annotations

from decimal import Decimal as D

import msgspec

from actors.executor.core import SymbolExecutor
from actors.executor.effects import (
    Alert,
    AskRisk,
    Cancel,
    Effect,
    Follow,
    Lookup,
    OrderLookedUp,
    RecordInJournal,
    Submit,
    SubmitAccepted,
    SubmitFailed,
    SubmitOutcome,
)
from actors.executor.protection.brackets import ProtectionFailurePolicy
from actors.executor.protection.keeper import ProtectionKeeper
from actors.ids import client_order_id_for
from actors.messages import Approved, Denied, ExecuteSignal, parse_signal
from actors.order_state import State
from actors.records import ProtectionRecorded
from brokers.base import OrderEvent, OrderRequest, OrderStatus, OrderType, Side, VenueOrder
from tests.builders import T0, unread_replies, update, venue_order

ENTRY = client_order_id_for("b1", "entry")


def signal(sid: str, action: str, **fields: object) -> ExecuteSignal:
    body = msgspec.json.encode({"id": sid, "symbol": "AAPL", "action": action, **fields})
    return ExecuteSignal(
        source="test", raw="", signal=parse_signal(body), reply=unread_replies(), received_at=T0
    )


def only(effects: list[Effect], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in effects if isinstance(e, kind)]


def acks(effects: list[Effect]) -> list[tuple[str, str | None]]:
    return [(j.ack[1].status, j.ack[1].reason) for j in only(effects, RecordInJournal) if j.ack]


def protections(effects: list[Effect]) -> list[str]:
    return [
        r.state
        for j in only(effects, RecordInJournal)
        for r in j.records
        if isinstance(r, ProtectionRecorded)
    ]


def leg(
    cid: str, order_type: OrderType, qty: str, status: OrderStatus, **prices: str
) -> VenueOrder:
    request = OrderRequest(
        client_order_id=cid,
        symbol="AAPL",
        side=Side.SELL,
        qty=D(qty),
        order_type=order_type,
        limit_price=D(prices["limit"]) if "limit" in prices else None,
        stop_price=D(prices["stop"]) if "stop" in prices else None,
    )
    return venue_order(request, status, venue_id=f"v-{cid}")


def approve(ex: SymbolExecutor, msg: ExecuteSignal) -> OrderRequest:
    (ask,) = only(ex.handle(msg, 0, T0), AskRisk)
    ex.handle(Approved(client_order_id=ask.request.client_order_id, reserved=D(0)), 0, T0)
    request: OrderRequest = ask.request
    return request


def bracket_entry(ex: SymbolExecutor, qty: str = "10") -> OrderRequest:
    """A bracket buy approved and sent; the venue answers with its two held legs."""
    request = approve(ex, signal("b1", "buy", qty=qty, take_profit="101", stop_loss="95"))
    answer = msgspec.structs.replace(
        venue_order(request, OrderStatus.NEW),
        legs=(
            leg("tp", OrderType.LIMIT, qty, OrderStatus.HELD, limit="101"),
            leg("sl", OrderType.STOP, qty, OrderStatus.HELD, stop="95"),
        ),
    )
    effects = ex.handle(SubmitAccepted(order=answer), 0, T0)
    assert only(effects, Follow) == [Follow("tp"), Follow("sl")]
    return request


def fill(
    ex: SymbolExecutor, req: OrderRequest, qty: str, price: str, final: bool = True
) -> list[Effect]:
    status = OrderStatus.FILLED if final else OrderStatus.PARTIALLY_FILLED
    event = OrderEvent.FILL if final else OrderEvent.PARTIAL_FILL
    venue_id = "v-1" if req.client_order_id == ENTRY else f"v-{req.client_order_id}"
    return ex.handle(
        update(
            req, event, status, qty, price, (f"x-{req.client_order_id}-{qty}", qty, price), venue_id
        ),
        0,
        T0,
    )


def leg_request(ex: SymbolExecutor, cid: str) -> OrderRequest:
    order = ex.order(cid)
    assert order is not None
    return order.request


def test_a_take_profit_filled_at_the_venue_closes_the_position_and_a_close_sends_nothing() -> None:
    """004 #3 in the core: the TP leg's fill makes the position flat; close sends nothing."""
    ex = SymbolExecutor("AAPL")
    entry = bracket_entry(ex)
    fill(ex, entry, "10", "100")
    assert ex.position.qty == 10
    assert ex.idle  # the exits rest at the venue: nothing to wait for
    fill(ex, leg_request(ex, "tp"), "10", "101")
    assert ex.position.qty == 0
    ex.handle(
        update(leg_request(ex, "sl"), OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-sl"),
        0,
        T0,
    )
    effects = ex.handle(signal("c1", "close"), 0, T0)
    assert only(effects, AskRisk) == []
    assert only(effects, Cancel) == []
    assert acks(effects) == [("accepted", "no order: position is flat")]
    assert ex.idle
    assert ex.unresolved() == []


def test_a_sibling_left_working_after_an_exit_filled_keeps_the_executor_busy() -> None:
    """With the sibling's cancel event missing, the executor is not idle until it ends."""
    ex = SymbolExecutor("AAPL")
    entry = bracket_entry(ex)
    fill(ex, entry, "10", "100")
    fill(ex, leg_request(ex, "tp"), "10", "101")
    assert not ex.idle
    assert [o.client_order_id for o in ex.unresolved()] == ["sl"]


def test_a_close_before_the_legs_are_known_waits_for_the_venue_answer() -> None:
    """An entry filled by the stream before its POST answer: the close waits for the legs,
    then cancels them before selling, so no leg is left working to flip the position."""
    ex = SymbolExecutor("AAPL")
    entry = approve(ex, signal("b1", "buy", qty=10, take_profit="101", stop_loss="95"))
    fill(ex, entry, "10", "100")
    effects = ex.handle(signal("c1", "close"), 0, T0)
    assert only(effects, AskRisk) == []
    answer = msgspec.structs.replace(
        venue_order(entry, OrderStatus.FILLED, "10", "100"),
        legs=(
            leg("tp", OrderType.LIMIT, "10", OrderStatus.NEW, limit="101"),
            leg("sl", OrderType.STOP, "10", OrderStatus.HELD, stop="95"),
        ),
    )
    effects = ex.handle(SubmitAccepted(order=answer), 0, T0)
    assert sorted(c.client_order_id for c in only(effects, Cancel)) == ["sl", "tp"]
    assert only(effects, AskRisk) == []


def partly_filled_then_canceled(ex: SymbolExecutor) -> list[Effect]:
    entry = bracket_entry(ex)
    fill(ex, entry, "3", "100", final=False)
    effects = ex.handle(update(entry, OrderEvent.CANCELED, OrderStatus.CANCELED, "3", "100"), 0, T0)
    # The venue cancels the legs with their parent: no cancel of ours.
    assert only(effects, Cancel) == []
    assert only(effects, Submit) == []
    ex.handle(
        update(leg_request(ex, "tp"), OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-tp"),
        0,
        T0,
    )
    return ex.handle(
        update(leg_request(ex, "sl"), OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-sl"),
        0,
        T0,
    )


def test_an_entry_partly_filled_then_canceled_gets_exits_for_exactly_the_filled_part() -> None:
    """000 #10: 3 of 10 filled, the legs never armed: an oco pair for 3 goes out."""
    ex = SymbolExecutor("AAPL")
    effects = partly_filled_then_canceled(ex)
    (submit,) = only(effects, Submit)
    assert submit.request.client_order_id == client_order_id_for("b1", "exit1")
    assert (submit.request.order_class, submit.request.side, submit.request.qty) == (
        "oco",
        Side.SELL,
        3,
    )
    assert (submit.request.take_profit, submit.request.stop_loss) == (101, 95)
    assert protections(effects) == ["armed for 3"]


def refused(ex: SymbolExecutor) -> list[Effect]:
    exits = client_order_id_for("b1", "exit1")
    return ex.handle(
        SubmitFailed(
            client_order_id=exits, outcome=SubmitOutcome.REJECTED, reason="venue rejected: {}"
        ),
        0,
        T0,
    )


def test_refused_exits_flatten_the_position_by_default() -> None:
    """000 #2: the exits are refused; a market sell of the 3 held goes out, and is reported."""
    ex = SymbolExecutor("AAPL")
    partly_filled_then_canceled(ex)
    effects = refused(ex)
    (submit,) = only(effects, Submit)
    assert submit.request.client_order_id == client_order_id_for("b1", "flatten1")
    assert (submit.request.side, submit.request.qty, submit.request.order_type) == (
        Side.SELL,
        3,
        OrderType.MARKET,
    )
    assert protections(effects) == ["failed: flattened"]
    assert len(only(effects, Alert)) == 1


def test_refused_exits_halt_the_symbol_under_that_policy() -> None:
    """halt_symbol: nothing is sent, new entries are refused, a close still goes."""
    ex = SymbolExecutor(
        "AAPL", protection=ProtectionKeeper("AAPL", ProtectionFailurePolicy.HALT_SYMBOL)
    )
    partly_filled_then_canceled(ex)
    effects = refused(ex)
    assert only(effects, Submit) == []
    assert protections(effects) == ["failed: halted"]
    effects = ex.handle(signal("b2", "buy", qty=1), 0, T0)
    ((status, reason),) = acks(effects)
    assert status == "rejected"
    assert reason is not None
    assert reason.startswith("symbol halted")
    (ask,) = only(ex.handle(signal("c1", "close"), 0, T0), AskRisk)
    assert (ask.request.side, ask.request.qty) == (Side.SELL, 3)


def test_dca_moves_the_exits_to_the_new_average_for_the_whole_position() -> None:
    """004 DCA: an add goes without legs; once filled, the old pair is canceled, then one
    pair for all 20 goes out at levels moved by the change of the average."""
    ex = SymbolExecutor("AAPL")
    entry = bracket_entry(ex)
    fill(ex, entry, "10", "100")
    add = approve(ex, signal("b2", "buy", qty=10))
    assert (add.take_profit, add.stop_loss) == (None, None)
    effects = fill(ex, add, "10", "98")
    assert ex.position.avg_entry_price == 99
    assert sorted(c.client_order_id for c in only(effects, Cancel)) == ["sl", "tp"]
    assert only(effects, Submit) == []  # never two take-profits: the old ones end first
    ex.handle(
        update(leg_request(ex, "tp"), OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-tp"),
        0,
        T0,
    )
    effects = ex.handle(
        update(leg_request(ex, "sl"), OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-sl"),
        0,
        T0,
    )
    (submit,) = only(effects, Submit)
    assert (submit.request.order_class, submit.request.qty) == ("oco", 20)
    assert (submit.request.take_profit, submit.request.stop_loss) == (D("100.00"), D("94.00"))


def test_dca_with_its_own_levels_uses_them() -> None:
    """An add that names take_profit / stop_loss moves the exits there instead."""
    ex = SymbolExecutor("AAPL")
    fill(ex, bracket_entry(ex), "10", "100")
    add = approve(ex, signal("b2", "buy", qty=10, take_profit="103", stop_loss="96"))
    assert (add.take_profit, add.stop_loss) == (None, None)
    fill(ex, add, "10", "98")
    for cid in ("tp", "sl"):
        effects = ex.handle(
            update(
                leg_request(ex, cid), OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id=f"v-{cid}"
            ),
            0,
            T0,
        )
    (submit,) = only(effects, Submit)
    assert (submit.request.qty, submit.request.take_profit, submit.request.stop_loss) == (
        20,
        103,
        96,
    )


def test_a_sale_out_of_a_protected_position_cancels_the_exits_first_then_rearms() -> None:
    """The venue holds the shares for the exits: a sell of 1 of 3 waits for their cancel,
    then goes, and the new exits cover the 2 left, never more than the position."""
    ex = SymbolExecutor("AAPL")
    partly_filled_then_canceled(ex)
    exits = leg_request(ex, client_order_id_for("b1", "exit1"))
    ex.handle(SubmitAccepted(order=venue_order(exits, OrderStatus.NEW, venue_id="v-exit1")), 0, T0)
    effects = ex.handle(signal("s1", "sell", qty=1), 0, T0)
    assert [c.client_order_id for c in only(effects, Cancel)] == [exits.client_order_id]
    assert only(effects, AskRisk) == []
    canceled = update(exits, OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-exit1")
    (ask,) = only(ex.handle(canceled, 0, T0), AskRisk)
    assert (ask.request.side, ask.request.qty) == (Side.SELL, 1)
    ex.handle(Approved(client_order_id=ask.request.client_order_id, reserved=D(0)), 0, T0)
    effects = fill(ex, ask.request, "1", "100")
    (submit,) = only(effects, Submit)
    assert (submit.request.order_class, submit.request.qty) == ("oco", 2)
    assert ex.order(exits.client_order_id).state is State.CANCELED  # type: ignore[union-attr]


def test_exits_the_venue_never_takes_after_retries_run_the_policy() -> None:
    """The exits meet 503s until the attempts run out: the position is flattened, as if
    they had been refused."""
    ex = SymbolExecutor("AAPL", max_submit_attempts=2)
    partly_filled_then_canceled(ex)
    exits = client_order_id_for("b1", "exit1")
    now = 0.0
    for _ in range(2):
        ex.handle(
            SubmitFailed(client_order_id=exits, outcome=SubmitOutcome.NOT_SENT, reason="503"),
            now,
            T0,
        )
        now = ex.next_deadline()
        assert [s.request.client_order_id for s in only(ex.on_timer(now, T0), Submit)] == [exits]
    effects = ex.handle(
        SubmitFailed(client_order_id=exits, outcome=SubmitOutcome.NOT_SENT, reason="503"), now, T0
    )
    (submit,) = only(effects, Submit)
    assert submit.request.client_order_id == client_order_id_for("b1", "flatten1")
    assert protections(effects) == ["failed: flattened"]


def test_exits_left_on_the_wrong_side_of_the_position_are_canceled() -> None:
    """A buy-side bracket filled, then a venue sale outside tradingd's exits flips the
    position short: sell exits would add to it, so they are canceled."""
    ex = SymbolExecutor("AAPL")
    entry = bracket_entry(ex, qty="2")
    fill(ex, entry, "2", "100")
    assert ex.position.qty == 2
    outside = OrderRequest(client_order_id="td-x-close", symbol="AAPL", side=Side.SELL, qty=D(5))
    ex.adopt(venue_order(outside, OrderStatus.NEW, venue_id="v-x"))
    effects = fill(ex, outside, "5", "100")
    assert ex.position.qty == -3
    assert sorted(c.client_order_id for c in only(effects, Cancel)) == ["sl", "tp"]


def test_a_lost_answer_after_the_stream_filled_the_entry_still_finds_its_legs() -> None:
    """The fill streamed in, then the POST's answer was lost: the order is final, yet it is
    looked up, since only the venue's answer names its legs; the signal waits for them."""
    ex = SymbolExecutor("AAPL")
    entry = approve(ex, signal("b1", "buy", qty=10, take_profit="101", stop_loss="95"))
    fill(ex, entry, "10", "100")
    lost = SubmitFailed(
        client_order_id=ENTRY, outcome=SubmitOutcome.UNKNOWN, reason="connection dropped"
    )
    effects = ex.handle(lost, 0, T0)
    assert [e.client_order_id for e in only(effects, Lookup)] == [ENTRY]
    assert only(ex.handle(signal("c1", "close"), 0, T0), AskRisk) == []
    answer = msgspec.structs.replace(
        venue_order(entry, OrderStatus.FILLED, "10", "100"),
        legs=(
            leg("tp", OrderType.LIMIT, "10", OrderStatus.NEW, limit="101"),
            leg("sl", OrderType.STOP, "10", OrderStatus.HELD, stop="95"),
        ),
    )
    effects = ex.handle(OrderLookedUp(client_order_id=ENTRY, order=answer), 0, T0)
    assert only(effects, Follow) == [Follow("tp"), Follow("sl")]
    assert sorted(c.client_order_id for c in only(effects, Cancel)) == ["sl", "tp"]


def test_a_sale_denied_after_the_exits_made_way_for_it_places_them_again() -> None:
    """The legs were canceled for a sale of 1 that RiskGuard then denies: the position is
    still 10, so an exit pair for 10 goes out; it is never left without its exits."""
    ex = SymbolExecutor("AAPL")
    fill(ex, bracket_entry(ex), "10", "100")
    ex.handle(signal("s1", "sell", qty=1), 0, T0)
    for cid in ("tp", "sl"):
        canceled = update(
            leg_request(ex, cid), OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id=f"v-{cid}"
        )
        effects = ex.handle(canceled, 0, T0)
    (ask,) = only(effects, AskRisk)
    assert only(effects, Submit) == []  # not while the sale may still go
    denied = Denied(client_order_id=ask.request.client_order_id, code="limit", detail="no")
    (submit,) = only(ex.handle(denied, 0, T0), Submit)
    assert (submit.request.client_order_id, submit.request.order_class, submit.request.qty) == (
        client_order_id_for("b1", "exit1"),
        "oco",
        10,
    )
