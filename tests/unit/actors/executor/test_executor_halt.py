"""The kill switch at one executor: working entries are canceled (journaled as the halt's),
the exits guarding the position and orders that only reduce it stay, and an entry still on
its way to the venue is canceled once it lands; a close that never trades leaves the position
guarded again."""

from __future__ import annotations

from collections import deque
from decimal import Decimal as D
from typing import TYPE_CHECKING

import attrs
import msgspec

from actors.executor.core import SymbolExecutor
from actors.executor.core_halt import HALT_CANCEL
from actors.executor.effects import (
    Alert,
    AskRisk,
    Cancel,
    CancelFailed,
    Effect,
    ExecutorInput,
    RecordInJournal,
    Submit,
    SubmitAccepted,
    SubmitFailed,
    SubmitOutcome,
)
from actors.executor.protection.brackets import ProtectionFailurePolicy
from actors.executor.protection.keeper import ProtectionKeeper
from actors.messages import Approved, CancelEntries, Denied, ExecuteSignal, parse_signal
from actors.records import OrderStateRecorded
from brokers.base import OrderStatus
from tests.bracket_venue import OPEN, Venue
from tests.builders import T0, unread_replies

if TYPE_CHECKING:
    from collections.abc import Sequence

BRACKET = {"take_profit": 110, "stop_loss": 90}
RESTING = {"order_type": "limit", "limit_price": 50}


@attrs.define
class Desk:
    """One executor on the small venue; every effect answered at once unless held."""

    ex: SymbolExecutor
    venue: Venue = attrs.field(factory=Venue)
    effects: list[Effect] = attrs.field(factory=list)
    # Submits not answered yet: an order on its way to the venue.
    held: list[Submit] = attrs.field(factory=list)
    hold_submits: bool = False
    # RiskGuard's answer to every order: approved, or denied with this code.
    deny: str | None = None

    @classmethod
    def new(cls, emulated: bool = False) -> Desk:
        keeper = ProtectionKeeper("AAPL", ProtectionFailurePolicy.FLATTEN, emulate=emulated)
        return cls(SymbolExecutor("AAPL", protection=keeper))

    def signal(self, **body: object) -> None:
        raw = msgspec.json.encode({"symbol": "AAPL", **body})
        message = ExecuteSignal(
            signal=parse_signal(raw), reply=unread_replies(), received_at=T0, source="t", raw=""
        )
        self.feed([message])

    def feed(self, first: Sequence[ExecutorInput]) -> list[Effect]:
        inbox: deque[ExecutorInput] = deque(first)
        out: list[Effect] = []
        while inbox:
            for effect in self.ex.handle(inbox.popleft(), 0, T0):
                out.append(effect)
                match effect:
                    case AskRisk(request=request) if self.deny is not None:
                        cid = request.client_order_id
                        inbox.append(Denied(client_order_id=cid, code=self.deny, detail="no"))
                    case AskRisk(request=request):
                        cid = request.client_order_id
                        inbox.append(Approved(client_order_id=cid, reserved=D(0)))
                    case Submit() if self.hold_submits:
                        self.held.append(effect)
                    case Submit(request=request):
                        inbox.append(SubmitAccepted(order=self.venue.submit(request)))
                    case Cancel(client_order_id=cid):
                        updates = self.venue.cancel(cid)
                        inbox.extend(updates or [CancelFailed(client_order_id=cid, reason="x")])
        self.effects += out
        return out

    def fill(self, cid: str, qty: int) -> None:
        self.feed(self.venue.fill(cid, D(qty), D(100)))

    def working(self) -> list[str]:
        return sorted(c for c, o in self.venue.orders.items() if o.status in OPEN)

    def halt(self) -> list[Effect]:
        return self.feed([CancelEntries()])


def halt_cancels(effects: list[Effect]) -> list[str]:
    return [
        r.client_order_id
        for e in effects
        if isinstance(e, RecordInJournal)
        for r in e.records
        if isinstance(r, OrderStateRecorded)
        and r.state == "pending_cancel"
        and r.reason == HALT_CANCEL
    ]


def test_halt_cancels_the_resting_entry_and_keeps_the_brackets_exits() -> None:
    """A filled bracket and a resting limit buy: only the buy is canceled, as the halt's."""
    desk = Desk.new()
    desk.signal(id="b", action="buy", qty=2, **BRACKET)
    (entry,) = [c for c in desk.venue.orders if "leg-" not in c]
    desk.fill(entry, 2)
    exits = desk.working()
    assert len(exits) == 2
    desk.signal(id="r", action="buy", qty=1, **RESTING)
    (resting,) = [c for c in desk.working() if c not in exits]
    effects = desk.halt()
    assert [c.client_order_id for c in effects if isinstance(c, Cancel)] == [resting]
    assert halt_cancels(effects) == [resting]
    assert any(isinstance(e, Alert) and resting in e.message for e in effects)
    assert desk.working() == exits
    assert desk.venue.orders[resting].status is OrderStatus.CANCELED


def test_halt_keeps_an_emulated_take_profit() -> None:
    """Emulated exits (a take-profit at the venue, the stop held here) stay through a halt."""
    desk = Desk.new(emulated=True)
    desk.signal(id="b", action="buy", qty=2, **BRACKET)
    (entry,) = desk.venue.orders
    desk.fill(entry, 2)
    take_profit = desk.working()
    assert len(take_profit) == 1
    assert not [e for e in desk.halt() if isinstance(e, Cancel)]
    assert desk.working() == take_profit
    assert desk.ex.protection.holds_stop


def test_halt_keeps_an_order_that_only_reduces_the_position() -> None:
    """A resting limit sell of part of a long only brings it toward flat: it stays."""
    desk = Desk.new()
    desk.signal(id="b", action="buy", qty=3)
    (entry,) = desk.venue.orders
    desk.fill(entry, 3)
    desk.signal(id="s", action="sell", qty=2, order_type="limit", limit_price=150)
    assert len(desk.working()) == 1
    assert not [e for e in desk.halt() if isinstance(e, Cancel)]
    assert len(desk.working()) == 1


def test_an_entry_on_its_way_is_canceled_once_it_lands() -> None:
    """The halt comes while the entry's submit is unanswered: no cancel yet (no venue id);
    the venue's answer brings the cancel, journaled as the halt's."""
    desk = Desk.new()
    desk.hold_submits = True
    desk.signal(id="r", action="buy", qty=1, **RESTING)
    assert not [e for e in desk.halt() if isinstance(e, Cancel)]
    (submit,) = desk.held
    desk.hold_submits = False
    landed = desk.feed([SubmitAccepted(order=desk.venue.submit(submit.request))])
    cid = submit.request.client_order_id
    assert [c.client_order_id for c in landed if isinstance(c, Cancel)] == [cid]
    assert halt_cancels(landed) == [cid]
    assert desk.working() == []


def test_a_close_risk_denies_leaves_the_position_guarded_again() -> None:
    """A close (``halt --flatten``'s, say) cancels the bracket's exits to make way, then
    RiskGuard denies it (the daily-loss latch in ``halted`` mode lets no order through): the
    position is not left without its stop, exits for it are placed again."""
    desk = Desk.new()
    desk.signal(id="b", action="buy", qty=2, **BRACKET)
    (entry,) = [c for c in desk.venue.orders if "leg-" not in c]
    desk.fill(entry, 2)
    exits = desk.working()
    assert len(exits) == 2
    desk.deny = "daily_loss_halted"
    desk.signal(id="c", action="close")
    assert all(desk.venue.orders[c].status is OrderStatus.CANCELED for c in exits)
    assert desk.ex.position.qty == D(2)
    again = desk.working()
    assert again, "the position was left without exits"
    assert not set(again) & set(exits)
    assert desk.ex.protection.current is not None


def test_a_close_the_venue_refuses_leaves_the_position_guarded_again() -> None:
    """The venue rejects the close sent once the exits were canceled: exits are placed
    again for the position, which it still holds."""
    desk = Desk.new()
    desk.signal(id="b", action="buy", qty=2, **BRACKET)
    (entry,) = [c for c in desk.venue.orders if "leg-" not in c]
    desk.fill(entry, 2)
    exits = desk.working()
    desk.hold_submits = True
    desk.signal(id="c", action="close")
    (close,) = desk.held
    desk.hold_submits = False
    cid = close.request.client_order_id
    desk.feed([SubmitFailed(client_order_id=cid, outcome=SubmitOutcome.REJECTED, reason="no")])
    assert desk.ex.position.qty == D(2)
    again = desk.working()
    assert again, "the position was left without exits"
    assert not set(again) & set(exits)


def test_a_close_that_trades_leaves_no_exits_behind() -> None:
    """The close fills: nothing is placed again."""
    desk = Desk.new()
    desk.signal(id="b", action="buy", qty=2, **BRACKET)
    (entry,) = [c for c in desk.venue.orders if "leg-" not in c]
    desk.fill(entry, 2)
    desk.signal(id="c", action="close")
    (close,) = desk.working()
    desk.fill(close, 2)
    assert desk.ex.position.qty == 0
    assert desk.working() == []
    assert desk.ex.protection.current is None


def test_a_target_denied_during_a_halt_keeps_the_position_guarded() -> None:
    """Halted, a strategy's alert retargets the position upwards: its exits are canceled to
    make way, RiskGuard denies the addition (``halted``), and exits are placed again."""
    desk = Desk.new()
    desk.signal(id="b", action="buy", qty=2, **BRACKET)
    (entry,) = [c for c in desk.venue.orders if "leg-" not in c]
    desk.fill(entry, 2)
    exits = desk.working()
    desk.halt()
    assert desk.working() == exits
    desk.deny = "halted"
    desk.signal(id="t", action="target", target_qty=5)
    assert desk.ex.position.qty == D(2)
    again = desk.working()
    assert len(again) == 2, "the position was left without exits"
    assert not set(again) & set(exits)
