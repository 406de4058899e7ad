"""Every transition of every order is journaled, whoever caused it: the venue's word, a
local move (sending, unknown, pending_cancel), a risk denial or a retry timer."""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import Decimal as D

import attrs

from actors.executor.core import SymbolExecutor
from actors.executor.effects import (
    AskRisk,
    Cancel,
    Effect,
    ExecutorInput,
    OrderLookedUp,
    RecordInJournal,
    SubmitAccepted,
    SubmitFailed,
    SubmitOutcome,
)
from actors.messages import Approved, Denied, ExecuteSignal, parse_signal
from actors.order_state import TRANSITIONS, State
from actors.records import OrderStateRecorded
from brokers.base import OrderEvent, OrderStatus
from tests.builders import T0, unread_replies, update, venue_order


@attrs.define
class JournaledExecutor:
    """Drives a SymbolExecutor and checks, after every step, that each order's state as
    the core holds it is the last state journaled for it."""

    core: SymbolExecutor = attrs.field(factory=lambda: SymbolExecutor("AAPL"))
    journaled: dict[str, list[str]] = attrs.field(factory=lambda: defaultdict(list))
    now: float = 0.0

    def handle(self, msg: ExecutorInput) -> list[Effect]:
        return self._check(self.core.handle(msg, self.now, T0))

    def tick(self, now: float) -> list[Effect]:
        self.now = now
        return self._check(self.core.on_timer(now, T0))

    def _check(self, effects: list[Effect]) -> list[Effect]:
        for effect in effects:
            if isinstance(effect, RecordInJournal):
                for record in effect.records:
                    if isinstance(record, OrderStateRecorded):
                        self.journaled[record.client_order_id].append(record.state)
        for order in self.core.orders():
            if order.state is State.INTENT:
                continue
            path = self.journaled[order.client_order_id]
            assert path, order.client_order_id
            assert path[-1] == order.state.value, (order.client_order_id, path)
            moves = [State.INTENT, *(State(s) for s in path)]
            for before, after in itertools.pairwise(moves):
                assert after is before or after in TRANSITIONS[before], path
        return effects


def signal(line: str) -> ExecuteSignal:
    return ExecuteSignal(
        source="test", raw="", signal=parse_signal(line), reply=unread_replies(), received_at=T0
    )


def ask_of(effects: list[Effect]) -> AskRisk:
    (ask,) = [e for e in effects if isinstance(e, AskRisk)]
    return ask


def test_rate_limited_submit_journals_unknown_then_sending_again() -> None:
    """A 429 makes the order unknown and the retry timer sends it again: both journaled."""
    ex = JournaledExecutor()
    ask = ask_of(ex.handle(signal('{"id":"s1","symbol":"AAPL","action":"buy","qty":2}')))
    cid = ask.request.client_order_id
    ex.handle(Approved(client_order_id=cid, reserved=D(1)))
    ex.handle(
        SubmitFailed(
            client_order_id=cid, outcome=SubmitOutcome.NOT_SENT, reason="429", retry_after=1
        )
    )
    ex.tick(5.0)
    ex.handle(SubmitAccepted(order=venue_order(ask.request, OrderStatus.FILLED, "2", "9")))
    assert ex.journaled[cid] == ["sending", "unknown", "sending", "filled"]


def test_lost_answer_journals_unknown_until_the_lookup_says() -> None:
    """An answer lost in transit: unknown is journaled, then the state the lookup found."""
    ex = JournaledExecutor()
    ask = ask_of(ex.handle(signal('{"id":"s1","symbol":"AAPL","action":"buy","qty":2}')))
    cid = ask.request.client_order_id
    ex.handle(Approved(client_order_id=cid, reserved=D(1)))
    ex.handle(
        SubmitFailed(client_order_id=cid, outcome=SubmitOutcome.UNKNOWN, reason="connection lost")
    )
    found = venue_order(ask.request, OrderStatus.NEW)
    ex.handle(OrderLookedUp(client_order_id=cid, order=found))
    ex.handle(update(ask.request, OrderEvent.FILL, OrderStatus.FILLED, "2", "9", ("e1", "2", "9")))
    assert ex.journaled[cid] == ["sending", "unknown", "accepted", "filled"]


def test_cancel_before_a_close_journals_pending_cancel() -> None:
    """A close cancels the working order first: pending_cancel is journaled, then canceled."""
    ex = JournaledExecutor()
    line = '{"id":"s1","symbol":"AAPL","action":"buy","qty":2,"order_type":"limit","limit_price":9}'
    ask = ask_of(ex.handle(signal(line)))
    cid = ask.request.client_order_id
    ex.handle(Approved(client_order_id=cid, reserved=D(1)))
    ex.handle(SubmitAccepted(order=venue_order(ask.request, OrderStatus.NEW)))
    effects = ex.handle(signal('{"id":"s2","symbol":"AAPL","action":"close"}'))
    assert [e.client_order_id for e in effects if isinstance(e, Cancel)] == [cid]
    ex.handle(update(ask.request, OrderEvent.CANCELED, OrderStatus.CANCELED))
    assert ex.journaled[cid] == ["sending", "accepted", "pending_cancel", "canceled"]


def test_denied_and_rejected_orders_are_journaled_final() -> None:
    """A risk denial and a venue rejection each leave a final state in the journal."""
    ex = JournaledExecutor()
    denied = ask_of(ex.handle(signal('{"id":"s1","symbol":"AAPL","action":"buy","qty":2}')))
    ex.handle(Denied(client_order_id=denied.request.client_order_id, code="limit", detail="x"))
    rejected = ask_of(ex.handle(signal('{"id":"s2","symbol":"AAPL","action":"buy","qty":1}')))
    cid = rejected.request.client_order_id
    ex.handle(Approved(client_order_id=cid, reserved=D(1)))
    ex.handle(SubmitFailed(client_order_id=cid, outcome=SubmitOutcome.REJECTED, reason="403"))
    assert ex.journaled[denied.request.client_order_id] == ["denied"]
    assert ex.journaled[cid] == ["sending", "rejected"]
