"""Emulated brackets in the core: the entry goes without legs, a take-profit follows its
fills, the stop is held and fires at market on a trade through it, a journaled
protection re-arms after a restart, and a sale that starts while the take-profit is being
replaced goes alone, the take-profit following only for what it leaves."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TYPE_CHECKING

import msgspec

from actors.executor.core import SymbolExecutor
from actors.executor.effects import (
    AskRisk,
    Cancel,
    Effect,
    ExecutorInput,
    RecordInJournal,
    Submit,
    SubmitAccepted,
)
from actors.executor.protection.brackets import ProtectionFailurePolicy
from actors.executor.protection.keeper import ProtectionKeeper
from actors.ids import client_order_id_for
from actors.messages import Approved, ExecuteSignal, PriceSeen, parse_signal
from actors.position import ConfirmedPosition
from actors.records import ProtectionRecorded
from brokers.base import OrderEvent, OrderRequest, OrderStatus, OrderType, OrderUpdate, Side
from daemon.journal.store import open_journal
from tests.builders import T0, unread_replies, update, venue_order

if TYPE_CHECKING:
    from pathlib import Path

EXIT1 = client_order_id_for("b1", "exit1")


def emulating(position: ConfirmedPosition | None = None) -> SymbolExecutor:
    keeper = ProtectionKeeper("AAPL", ProtectionFailurePolicy.FLATTEN, emulate=True)
    return SymbolExecutor("AAPL", position or ConfirmedPosition(), protection=keeper)


def only(effects: list[Effect], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in effects if isinstance(e, kind)]


def protections(effects: list[Effect]) -> list[ProtectionRecorded]:
    return [
        r
        for j in only(effects, RecordInJournal)
        for r in j.records
        if isinstance(r, ProtectionRecorded)
    ]


def bracket_buy(ex: SymbolExecutor) -> OrderRequest:
    body = b'{"id":"b1","symbol":"AAPL","action":"buy","qty":10,"take_profit":101,"stop_loss":95}'
    msg = ExecuteSignal(
        signal=parse_signal(body), reply=unread_replies(), received_at=T0, source="test", raw=""
    )
    (ask,) = only(ex.handle(msg, 0, T0), AskRisk)
    ex.handle(Approved(client_order_id=ask.request.client_order_id, reserved=D(0)), 0, T0)
    request: OrderRequest = ask.request
    return request


def filled(ex: SymbolExecutor, req: OrderRequest, total: str) -> list[Effect]:
    status = OrderStatus.FILLED if D(total) == req.qty else OrderStatus.PARTIALLY_FILLED
    return ex.handle(update(req, OrderEvent.FILL, status, total, "100", (total, "3", "100")), 0, T0)


def test_the_entry_goes_alone_and_a_take_profit_follows_its_fills() -> None:
    """3 filled: a take-profit limit for 3; 6 filled: that one is canceled, then one for 6."""
    ex = emulating()
    entry = bracket_buy(ex)
    assert (entry.take_profit, entry.stop_loss) == (None, None)
    (submit,) = only(filled(ex, entry, "3"), Submit)
    first = submit.request
    assert (first.client_order_id, first.order_type, first.qty) == (EXIT1, OrderType.LIMIT, 3)
    assert (first.limit_price, first.order_class) == (101, None)
    ex.handle(SubmitAccepted(order=venue_order(first, venue_id="v-exit1")), 0, T0)
    effects = ex.handle(
        update(entry, OrderEvent.FILL, OrderStatus.PARTIALLY_FILLED, "6", "100", ("6", "3", "100")),
        0,
        T0,
    )
    assert [c.client_order_id for c in only(effects, Cancel)] == [EXIT1]
    assert only(effects, Submit) == []  # never two take-profits at once
    effects = ex.handle(
        update(first, OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-exit1"), 0, T0
    )
    (submit,) = only(effects, Submit)
    assert (submit.request.client_order_id, submit.request.qty) == (
        client_order_id_for("b1", "exit2"),
        6,
    )


def test_the_held_stop_fires_on_a_trade_through_it() -> None:
    """A trade at 95.01 does nothing; at 95 the take-profit is canceled, then the stop's
    market sell of the whole position goes out."""
    ex = emulating()
    entry = bracket_buy(ex)
    (submit,) = only(filled(ex, entry, "10"), Submit)
    ex.handle(SubmitAccepted(order=venue_order(submit.request, venue_id="v-exit1")), 0, T0)
    assert ex.protection.holds_stop
    assert ex.handle(PriceSeen(price=D("95.01")), 0, T0) == []
    effects = ex.handle(PriceSeen(price=D(95)), 0, T0)
    assert [c.client_order_id for c in only(effects, Cancel)] == [EXIT1]
    assert not ex.protection.holds_stop
    canceled = update(submit.request, OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-exit1")
    effects = ex.handle(canceled, 0, T0)
    (stop,) = only(effects, Submit)
    assert stop.request.client_order_id == client_order_id_for("b1", "stop1")
    assert (stop.request.side, stop.request.qty, stop.request.order_type) == (
        Side.SELL,
        10,
        OrderType.MARKET,
    )
    assert [r.state for r in protections(effects)] == ["stopped at 95"]


async def test_a_journaled_protection_re_arms_after_a_restart(tmp_path: Path) -> None:
    """What the protections table holds for an armed position comes back as it was: the
    adopted take-profit is its exit and the stop is held again."""
    ex = emulating()
    entry = bracket_buy(ex)
    effects = filled(ex, entry, "10")
    (armed,) = protections(effects)
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        await journal.commit(armed)
        (restored,) = await journal.open_protections()
    assert restored == msgspec.structs.replace(armed, at=restored.at)
    assert restored.exits == (EXIT1,)
    again = emulating(ConfirmedPosition(D(10), D(100)))
    (submit,) = only(effects, Submit)
    again.adopt(venue_order(submit.request, venue_id="v-exit1"))
    again.protection.restore(restored)
    assert again.protection.holds_stop
    effects = again.handle(PriceSeen(price=D(94)), 0, T0)
    assert [c.client_order_id for c in only(effects, Cancel)] == [EXIT1]


def sent(ex: SymbolExecutor, body: bytes) -> OrderRequest:
    """The signal's order, approved, sent and accepted by the venue."""
    msg = ExecuteSignal(
        signal=parse_signal(body), reply=unread_replies(), received_at=T0, source="test", raw=""
    )
    return approve(ex, msg)


def approve(ex: SymbolExecutor, msg: ExecutorInput) -> OrderRequest:
    """The one order ``msg`` sets off: asked of RiskGuard, approved, sent, accepted."""
    (ask,) = only(ex.handle(msg, 0, T0), AskRisk)
    effects = ex.handle(Approved(client_order_id=ask.request.client_order_id, reserved=D(0)), 0, T0)
    assert [s.request.client_order_id for s in only(effects, Submit)] == [
        ask.request.client_order_id
    ]
    request: OrderRequest = ask.request
    venue_id = f"v-{request.client_order_id}"
    ex.handle(SubmitAccepted(order=venue_order(request, venue_id=venue_id)), 0, T0)
    return request


def filled_at_once(ex: SymbolExecutor, req: OrderRequest) -> list[Effect]:
    cid = req.client_order_id
    fill = (f"x-{cid}", str(req.qty), "100")
    done = update(req, OrderEvent.FILL, OrderStatus.FILLED, str(req.qty), "100", fill, f"v-{cid}")
    return ex.handle(done, 0, T0)


def add_then_sell_while_the_take_profit_is_replaced(ex: SymbolExecutor, qty: int) -> OrderUpdate:
    """10 bought with a take-profit resting, 10 added: the take-profit for 10 is being
    canceled (to be replaced by one for 20) when a sale of ``qty`` starts. Returns the
    cancel's confirmation, not yet handled."""
    entry = bracket_buy(ex)
    (submit,) = only(filled_at_once(ex, entry), Submit)
    first = submit.request
    ex.handle(SubmitAccepted(order=venue_order(first, venue_id="v-exit1")), 0, T0)
    add = sent(ex, b'{"id":"a1","symbol":"AAPL","action":"buy","qty":10}')
    assert [c.client_order_id for c in only(filled_at_once(ex, add), Cancel)] == [EXIT1]
    body = b'{"id":"s1","symbol":"AAPL","action":"sell","qty":%d}' % qty
    msg = ExecuteSignal(
        signal=parse_signal(body), reply=unread_replies(), received_at=T0, source="test", raw=""
    )
    assert only(ex.handle(msg, 0, T0), AskRisk) == []  # the take-profit holds the shares
    return update(first, OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-exit1")


def test_a_sale_of_the_whole_position_during_a_re_arm_leaves_no_take_profit_behind() -> None:
    """The take-profit's cancel lands: the sale of all 20 goes alone, no take-profit for 20
    goes out beside it, and once it filled the position is flat with no exit working."""
    ex = emulating()
    canceled = add_then_sell_while_the_take_profit_is_replaced(ex, 20)
    sale = approve(ex, canceled)
    assert (sale.side, sale.qty) == (Side.SELL, 20)
    effects = filled_at_once(ex, sale)
    assert only(effects, Submit) == []
    assert [r.state for r in protections(effects)] == ["done"]
    assert (ex.position.qty, ex.protection.current) == (0, None)
    assert not [o for o in ex.unresolved() if o.request.side is Side.SELL]


def test_a_sale_of_part_of_the_position_during_a_re_arm_re_arms_only_after_it() -> None:
    """A sale of 5 of 20: the take-profit is placed again only once the sale is final, and
    for the 15 left, never for shares the sale is selling."""
    ex = emulating()
    canceled = add_then_sell_while_the_take_profit_is_replaced(ex, 5)
    sale = approve(ex, canceled)
    (submit,) = only(filled_at_once(ex, sale), Submit)
    assert (submit.request.client_order_id, submit.request.side, submit.request.qty) == (
        client_order_id_for("b1", "exit2"),
        Side.SELL,
        15,
    )


def a_resting_sale_of_4_of_10(ex: SymbolExecutor) -> tuple[OrderRequest, OrderRequest]:
    """10 bought with a take-profit; a limit sale of 4 then rests at the venue, its signal
    done. Returns the sale and the take-profit placed again beside it (both accepted)."""
    (submit,) = only(filled_at_once(ex, bracket_buy(ex)), Submit)
    first = submit.request
    ex.handle(SubmitAccepted(order=venue_order(first, venue_id="v-exit1")), 0, T0)
    body = b'{"id":"s1","symbol":"AAPL","action":"sell","qty":4,"order_type":"limit",'
    msg = ExecuteSignal(
        signal=parse_signal(body + b'"limit_price":102}'),
        reply=unread_replies(),
        received_at=T0,
        source="test",
        raw="",
    )
    assert [c.client_order_id for c in only(ex.handle(msg, 0, T0), Cancel)] == [EXIT1]
    canceled = update(first, OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-exit1")
    (ask,) = only(ex.handle(canceled, 0, T0), AskRisk)
    sale: OrderRequest = ask.request
    effects = ex.handle(Approved(client_order_id=sale.client_order_id, reserved=D(0)), 0, T0)
    assert only(effects, Submit) == [
        Submit(sale, protective=True)
    ]  # the sale alone while it is in flight
    accepted = venue_order(sale, venue_id=f"v-{sale.client_order_id}")
    (exits,) = only(ex.handle(SubmitAccepted(order=accepted), 0, T0), Submit)
    ex.handle(SubmitAccepted(order=venue_order(exits.request, venue_id="v-exit2")), 0, T0)
    return sale, exits.request


def test_a_resting_sale_leaves_the_take_profit_only_what_it_does_not_sell() -> None:
    """The take-profit placed again beside a resting sale of 4 covers 6, so both filling
    sell 10, never more; the sale's fill leaves it as it is."""
    ex = emulating()
    sale, exits = a_resting_sale_of_4_of_10(ex)
    assert (exits.client_order_id, exits.qty) == (client_order_id_for("b1", "exit2"), 6)
    effects = filled_at_once(ex, sale)
    assert (only(effects, Cancel), only(effects, Submit)) == ([], [])
    assert ex.position.qty == 6


def test_the_held_stop_fired_beside_a_resting_sale_sells_only_what_it_leaves() -> None:
    """A trade through the stop with a sale of 4 resting: the take-profit is canceled, then
    the stop's market order sells 6, not 10, so the position cannot go short."""
    ex = emulating()
    _, exits = a_resting_sale_of_4_of_10(ex)
    effects = ex.handle(PriceSeen(price=D(94)), 0, T0)
    assert [c.client_order_id for c in only(effects, Cancel)] == [exits.client_order_id]
    canceled = update(exits, OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-exit2")
    (stop,) = only(ex.handle(canceled, 0, T0), Submit)
    assert (stop.request.client_order_id, stop.request.side, stop.request.qty) == (
        client_order_id_for("b1", "stop2"),
        Side.SELL,
        6,
    )


def test_a_resting_sale_canceled_gives_the_take_profit_the_whole_position_again() -> None:
    """The sale of 4 is canceled unfilled: the take-profit for 6 is canceled, then one for
    all 10 goes out, so the position is not left partly unguarded."""
    ex = emulating()
    sale, exits = a_resting_sale_of_4_of_10(ex)
    venue_id = f"v-{sale.client_order_id}"
    effects = ex.handle(
        update(sale, OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id=venue_id), 0, T0
    )
    assert [c.client_order_id for c in only(effects, Cancel)] == [exits.client_order_id]
    assert only(effects, Submit) == []
    canceled = update(exits, OrderEvent.CANCELED, OrderStatus.CANCELED, venue_id="v-exit2")
    (again,) = only(ex.handle(canceled, 0, T0), Submit)
    assert (again.request.client_order_id, again.request.qty) == (
        client_order_id_for("b1", "exit3"),
        10,
    )
