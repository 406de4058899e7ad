"""Entries that rest on (limit orders) beside the position's exits: a later entry and the
resting one share one set of exits for every share they fill, a resting entry's fills after
its held stop closed the position are guarded again, and exits canceled at the venue by someone else are
alerted and journaled, never replaced."""

from __future__ import annotations

from collections import deque
from decimal import Decimal as D
from typing import TYPE_CHECKING

import attrs
import msgspec

from actors.executor.core import SymbolExecutor
from actors.executor.effects import (
    Alert,
    AskRisk,
    Cancel,
    CancelFailed,
    Effect,
    ExecutorInput,
    Lookup,
    OrderLookedUp,
    RecordInJournal,
    Submit,
    SubmitAccepted,
)
from actors.executor.protection.brackets import ProtectionFailurePolicy
from actors.executor.protection.keeper import ProtectionKeeper
from actors.messages import Approved, ExecuteSignal, PriceSeen, parse_signal
from actors.records import ProtectionRecorded
from brokers.base import OrderStatus
from tests.bracket_venue import Venue
from tests.builders import T0, unread_replies

if TYPE_CHECKING:
    from collections.abc import Sequence


@attrs.define
class Desk:
    """One symbol's executor wired to the small venue; every effect answered at once."""

    ex: SymbolExecutor
    venue: Venue = attrs.field(factory=Venue)
    effects: list[Effect] = attrs.field(factory=list)

    @classmethod
    def new(cls, emulated: bool) -> Desk:
        keeper = ProtectionKeeper("AAPL", ProtectionFailurePolicy.FLATTEN, emulate=emulated)
        return cls(SymbolExecutor("AAPL", protection=keeper))

    def signal(self, **body: object) -> str:
        """Feed a signal; returns its entry's client id."""
        raw = msgspec.json.encode({"symbol": "AAPL", **body})
        before = set(self.venue.orders)
        self.feed(
            [
                ExecuteSignal(
                    signal=parse_signal(raw),
                    reply=unread_replies(),
                    received_at=T0,
                    source="test",
                    raw="",
                )
            ]
        )
        (entry,) = [c for c in self.venue.orders if c not in before and "leg-" not in c]
        return entry

    def fill(self, cid: str, qty: int) -> None:
        self.feed(self.venue.fill(cid, D(qty), D(100)))

    def cancel_at_venue(self, cid: str) -> None:
        self.feed(self.venue.cancel(cid))

    def feed(self, first: Sequence[ExecutorInput]) -> None:
        inbox: deque[ExecutorInput] = deque(first)
        while inbox:
            for effect in self.ex.handle(inbox.popleft(), 0, T0):
                self.effects.append(effect)
                match effect:
                    case AskRisk(request=request):
                        cid = request.client_order_id
                        inbox.append(Approved(client_order_id=cid, reserved=D(0)))
                    case Submit(request=request):
                        inbox.append(SubmitAccepted(order=self.venue.submit(request)))
                    case Cancel(client_order_id=cid):
                        updates = self.venue.cancel(cid)
                        inbox.extend(updates or [CancelFailed(client_order_id=cid, reason="x")])
                    case Lookup(client_order_id=cid):
                        order = self.venue.snapshot(cid) if cid in self.venue.orders else None
                        inbox.append(OrderLookedUp(client_order_id=cid, order=order))

    def working_exits(self) -> list[tuple[str, D]]:
        """(family, quantity it may still take) for every exit working at the venue (a
        leg, an oco pair, or an emulated take-profit, a plain limit named for its leg)."""
        families: dict[str, D] = {}
        for cid, o in self.venue.orders.items():
            exit_order = o.is_exit or cid.rsplit("-", 1)[-1].startswith("exit")
            if exit_order and o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
                root = o.parent or cid
                families[root] = max(families.get(root, D(0)), o.request.qty - o.filled)
        return sorted(families.items())

    def protection_states(self) -> list[str]:
        return [
            r.state
            for e in self.effects
            if isinstance(e, RecordInJournal)
            for r in e.records
            if isinstance(r, ProtectionRecorded)
        ]


BRACKET = {"take_profit": 110, "stop_loss": 90}
LIMIT = {"order_type": "limit", "limit_price": 100}


def test_a_buy_beside_a_resting_bracket_buy_shares_one_set_of_exits() -> None:
    """A bracket limit buy of 2 rests; a buy of 1 goes without legs of its own, and once
    both filled one exit pair covers all 3 (the resting entry's legs replaced)."""
    desk = Desk.new(emulated=False)
    resting = desk.signal(id="a", action="buy", qty=2, **LIMIT, **BRACKET)
    added = desk.signal(id="b", action="buy", qty=1, **BRACKET)
    assert desk.venue.orders[added].legs == []
    desk.fill(added, 1)
    assert [qty for _, qty in desk.working_exits()] == [1]
    desk.fill(resting, 2)
    assert desk.venue.position == 3
    assert [qty for _, qty in desk.working_exits()] == [3]


def test_a_resting_entrys_later_fills_are_guarded_after_its_stop_closed_the_position() -> None:
    """Emulated: 2 of a resting buy of 5 fill and the held stop sells them at market; the 3
    that fill later get a take-profit, and the stop is held for them again."""
    desk = Desk.new(emulated=True)
    resting = desk.signal(id="a", action="buy", qty=5, **LIMIT, **BRACKET)
    desk.fill(resting, 2)
    desk.feed([PriceSeen(price=D(90))])
    (stop,) = [c for c, o in desk.venue.orders.items() if c.endswith("-stop1") and o.open]
    desk.fill(stop, 2)
    assert desk.venue.position == 0
    assert desk.working_exits() == []
    desk.fill(resting, 3)
    assert desk.venue.position == 3
    assert [qty for _, qty in desk.working_exits()] == [3]
    assert desk.ex.protection.holds_stop


def test_exits_canceled_at_the_venue_by_someone_else_are_alerted_not_replaced() -> None:
    """An operator cancels the take-profit leg: its stop sibling is canceled with it, an
    alert and a journal record say so, and no exit is sent again."""
    desk = Desk.new(emulated=False)
    entry = desk.signal(id="a", action="buy", qty=2, **BRACKET)
    desk.fill(entry, 2)
    take_profit, stop = desk.venue.orders[entry].legs
    desk.effects.clear()
    desk.cancel_at_venue(take_profit)
    assert desk.working_exits() == []
    assert desk.venue.orders[stop].status is OrderStatus.CANCELED
    assert [e for e in desk.effects if isinstance(e, Submit)] == []
    (alert,) = [e for e in desk.effects if isinstance(e, Alert)]
    assert "not replaced" in alert.message
    assert desk.protection_states() == ["canceled at the venue: not replaced"]
    assert desk.ex.protection.current is None
    assert desk.venue.position == 2
