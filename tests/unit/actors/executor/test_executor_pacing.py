"""What the executor tells RiskGuard for pacing and the breaker: which requests are sized
from the position (never duplicates), how many signals wait behind one, and every exit it
sends without asking; and an approval that comes late, after the position moved."""

from __future__ import annotations

from decimal import Decimal as D

from actors.executor.core import SymbolExecutor
from actors.executor.effects import AskRisk, Effect, ExitSent, Release, Submit
from actors.executor.protection.brackets import ProtectionFailurePolicy
from actors.executor.protection.keeper import ProtectionKeeper
from actors.messages import AdoptOutsideFill, Approved, ExecuteSignal, parse_signal
from actors.position import ConfirmedPosition
from brokers.base import OrderEvent, OrderStatus, Side
from tests.builders import T0, request, unread_replies, update, venue_order


def signal(body: str) -> ExecuteSignal:
    return ExecuteSignal(
        signal=parse_signal(body.encode()),
        reply=unread_replies(),
        received_at=T0,
        source="test",
        raw="",
    )


def only(effects: list[Effect], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in effects if isinstance(e, kind)]


def approve(ex: SymbolExecutor, ask: AskRisk) -> list[Effect]:
    cid = ask.request.client_order_id
    return ex.handle(Approved(client_order_id=cid, reserved=D(0)), 0, T0)


def test_target_and_flip_legs_are_asked_as_position_derived_a_plain_buy_is_not() -> None:
    """A target's legs and both legs of a sell across zero say so; a buy does not."""
    ex = SymbolExecutor("AAPL", ConfirmedPosition(qty=D(5), avg_entry_price=D(100)))
    (target,) = only(
        ex.handle(signal('{"id":"t","symbol":"AAPL","action":"target","target_qty":2}'), 0, T0),
        AskRisk,
    )
    assert target.position_derived
    flat = SymbolExecutor("AAPL", ConfirmedPosition(qty=D(5), avg_entry_price=D(100)))
    (to_zero,) = only(
        flat.handle(signal('{"id":"s","symbol":"AAPL","action":"sell","qty":8}'), 0, T0), AskRisk
    )
    assert to_zero.position_derived
    approve(flat, to_zero)
    filled = update(
        to_zero.request, OrderEvent.FILL, OrderStatus.FILLED, "5", "100", ("x", "5", "100")
    )
    (open_leg,) = only(flat.handle(filled, 0, T0), AskRisk)
    assert (open_leg.request.side, open_leg.request.qty) == (Side.SELL, D(3))
    assert open_leg.position_derived
    plain = SymbolExecutor("AAPL")
    (buy,) = only(
        plain.handle(signal('{"id":"b","symbol":"AAPL","action":"buy","qty":3}'), 0, T0), AskRisk
    )
    assert not buy.position_derived


def test_a_request_says_how_many_signals_arrived_and_wait_behind_it() -> None:
    """Three signals while the first is worked: the next request counts them."""
    ex = SymbolExecutor("AAPL")
    (first,) = only(
        ex.handle(signal('{"id":"a","symbol":"AAPL","action":"buy","qty":1}'), 0, T0), AskRisk
    )
    assert (first.offered, first.waiting) == (1, 0)
    approve(ex, first)
    for sid in "bcd":
        ex.handle(signal(f'{{"id":"{sid}","symbol":"AAPL","action":"buy","qty":2}}'), 0, T0)
    done = update(first.request, OrderEvent.FILL, OrderStatus.FILLED, "1", "100", ("x", "1", "100"))
    (second,) = only(ex.handle(done, 0, T0), AskRisk)
    assert (second.offered, second.waiting) == (3, 2)


def test_an_exit_sent_without_asking_is_counted_in_the_window() -> None:
    """The emulated bracket's take-profit goes out with an ExitSent for RiskGuard first."""
    keeper = ProtectionKeeper("AAPL", ProtectionFailurePolicy.FLATTEN, emulate=True)
    ex = SymbolExecutor("AAPL", protection=keeper)
    body = '{"id":"b1","symbol":"AAPL","action":"buy","qty":10,"take_profit":101,"stop_loss":95}'
    (ask,) = only(ex.handle(signal(body), 0, T0), AskRisk)
    approve(ex, ask)
    fill = update(ask.request, OrderEvent.FILL, OrderStatus.FILLED, "10", "100", ("x", "10", "100"))
    effects = ex.handle(fill, 0, T0)
    (submit,) = only(effects, Submit)
    assert only(effects, ExitSent) == [ExitSent(submit.request.client_order_id)]
    assert effects.index(only(effects, ExitSent)[0]) < effects.index(submit)


def test_a_sell_approved_after_the_position_went_flat_is_asked_again_as_an_entry() -> None:
    """Long 5, sell 5 waits for its slot; a fill from outside empties the position: the sell
    that would now open a short is not sent on an approval given to an exit."""
    ex = SymbolExecutor("AAPL", ConfirmedPosition(qty=D(5), avg_entry_price=D(100)))
    (ask,) = only(
        ex.handle(signal('{"id":"s","symbol":"AAPL","action":"sell","qty":5}'), 0, T0), AskRisk
    )
    outside = request("outside-1", side=Side.SELL, qty="5")
    order = venue_order(outside, OrderStatus.FILLED, "5", "100", "v-out")
    ex.handle(AdoptOutsideFill(order=order, reply=unread_replies()), 0, T0)
    assert ex.position.qty == 0
    effects = approve(ex, ask)
    assert only(effects, Submit) == []
    assert only(effects, Release) == [Release(ask.request.client_order_id)]
    (again,) = only(effects, AskRisk)
    assert again.position_qty == 0
