from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from actors.executor.core import SymbolExecutor
from actors.executor.effects import AskRisk, RecordInJournal, Submit
from actors.ids import client_order_id_for
from actors.messages import ExecuteSignal, ResendIntent, parse_signal
from actors.order_state import State
from actors.position import ConfirmedPosition
from actors.reconciler.core import PendingIntent, decide_intents
from actors.records import IntentRecorded
from brokers.base import OrderEvent, OrderStatus
from tests.builders import T0, request, unread_replies, update, venue_order


def test_young_unsent_intent_is_resent_and_old_one_recorded_as_never_sent() -> None:
    """An intent the venue lacks is resent only if recent; an old one is closed as not sent."""
    young = PendingIntent(request=request("td-young-entry"), created_at=T0 - timedelta(seconds=5))
    old = PendingIntent(request=request("td-old-entry"), created_at=T0 - timedelta(hours=2))
    outcome = decide_intents([young, old], {"td-young-entry": None, "td-old-entry": None}, T0)
    assert outcome.resend == (young.request,)
    (record,) = outcome.records
    assert record.client_order_id == "td-old-entry"
    assert record.state == "rejected"
    assert "never reached the venue" in (record.reason or "")


def test_intent_the_venue_filled_is_recorded_filled_not_resent() -> None:
    """An order that reached the venue before the crash is recorded as the venue says."""
    intent = PendingIntent(request=request("td-a-entry", qty="4"), created_at=T0)
    filled = venue_order(intent.request, OrderStatus.FILLED, "4", "10")
    outcome = decide_intents([intent], {"td-a-entry": filled}, T0)
    assert outcome.resend == ()
    (record,) = outcome.records
    assert (record.state, record.filled_qty) == ("filled", Decimal(4))


def test_intent_still_working_at_the_venue_is_adopted() -> None:
    """An order found working is adopted, not recorded final nor resent."""
    intent = PendingIntent(request=request("td-w-entry"), created_at=T0)
    working = venue_order(intent.request, OrderStatus.NEW)
    outcome = decide_intents([intent], {"td-w-entry": working}, T0)
    assert outcome.adopt == (working,)
    assert outcome.resend == ()
    assert outcome.records == ()


def test_adopted_order_counts_only_fills_after_adoption() -> None:
    """Fills before adoption are already in the venue position; only later ones move it."""
    req = request("td-p-entry", qty="10")
    ex = SymbolExecutor("AAPL")
    ex.adopt(venue_order(req, OrderStatus.PARTIALLY_FILLED, "4", "10"))
    ex.handle(
        update(req, OrderEvent.FILL, OrderStatus.FILLED, "10", "10", ("e9", "6", "10")), 0, T0
    )
    assert ex.position.qty == Decimal(6)
    order = ex.order("td-p-entry")
    assert order is not None
    assert order.state is State.FILLED


def test_resend_intent_submits_once_with_the_same_id() -> None:
    """A resent intent goes out with its original client id, and only once."""
    ex = SymbolExecutor("AAPL")
    req = request("td-r-entry")
    first = ex.handle(ResendIntent(request=req), 0, T0)
    again = ex.handle(ResendIntent(request=req), 0, T0)
    assert [e for e in first if isinstance(e, Submit)] == [Submit(req)]
    assert [e for e in again if isinstance(e, Submit)] == []


def test_a_remembered_final_order_makes_its_signal_fed_again_a_duplicate() -> None:
    """An order sent before a crash but never journaled is known at startup: the repeated
    signal asks nobody and sends nothing, and its fill is not counted on top of the venue's
    position."""
    cid = client_order_id_for("lost-ack", "entry")
    req = request(cid, qty="3")
    ex = SymbolExecutor("AAPL", ConfirmedPosition(Decimal(3), Decimal(10)))
    ex.remember(venue_order(req, OrderStatus.FILLED, "3", "10"))
    line = '{"id":"lost-ack","symbol":"AAPL","action":"buy","qty":3}'
    effects = ex.handle(
        ExecuteSignal(
            signal=parse_signal(line), reply=unread_replies(), received_at=T0, source="test", raw=""
        ),
        0,
        T0,
    )
    assert not [e for e in effects if isinstance(e, AskRisk | Submit)]
    (journal,) = [e for e in effects if isinstance(e, RecordInJournal)]
    assert journal.ack is not None
    assert journal.ack[1].status == "duplicate"
    # The order's row learns its signal, so the next restart's dedupe knows the id.
    (named,) = [r for r in journal.records if isinstance(r, IntentRecorded)]
    assert (named.signal_id, named.request) == ("lost-ack", req)
    assert ex.position.qty == Decimal(3)
    assert ex.idle


def test_intents_resolved_rejected_at_startup_are_explained() -> None:
    """An intent found never sent, or found rejected by the venue, ends with its code and
    detail (what ``tradingd orders`` shows), not as a rejection without a why."""
    old = PendingIntent(request=request("td-old-entry"), created_at=T0 - timedelta(hours=2))
    refused = PendingIntent(request=request("td-r-entry", qty="4"), created_at=T0)
    at_venue = venue_order(refused.request, OrderStatus.REJECTED, "0", None)
    outcome = decide_intents([old, refused], {"td-old-entry": None, "td-r-entry": at_venue}, T0)
    assert [(r.client_order_id, r.code, r.state) for r in outcome.refusals] == [
        ("td-old-entry", "not_sent", "rejected"),
        ("td-r-entry", "venue_rejected", "rejected"),
    ]
    assert "never reached the venue" in outcome.refusals[0].detail
    assert (outcome.refusals[1].side, outcome.refusals[1].qty) == (refused.request.side, Decimal(4))
