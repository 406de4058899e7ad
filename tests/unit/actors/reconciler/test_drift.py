from __future__ import annotations

from decimal import Decimal as D

from actors.reconciler.core_drift import (
    Cause,
    Disposal,
    Remedy,
    correction_signal_id,
    dispose,
    expected_holding,
    explain,
    notional_of,
    remedy_for,
    target_after,
)
from brokers.base import OrderStatus, Side
from tests.builders import request, venue_order


def test_fills_the_stream_never_delivered_are_a_missed_fill() -> None:
    """Own orders filled further at the venue than counted, exactly the difference."""
    orders = [
        venue_order(request("td-a-entry", qty="10"), OrderStatus.FILLED, "10"),
        venue_order(request("td-b-entry", qty="4"), OrderStatus.FILLED, "4"),
    ]
    found = explain(D(4), D(14), orders, {"td-b-entry": D(4)})
    assert found.cause is Cause.MISSED_FILL
    assert found.missed_orders == ("td-a-entry",)
    assert "td-a-entry" in found.detail


def test_a_filled_order_placed_elsewhere_is_an_external_trade() -> None:
    """Orders without tradingd's id prefix that filled the difference are external."""
    orders = [venue_order(request("manual-1", side=Side.SELL, qty="3"), OrderStatus.FILLED, "3")]
    found = explain(D(10), D(7), orders, {})
    assert found.cause is Cause.EXTERNAL
    assert "manual-1" in found.detail


def test_a_position_the_venue_lacks_is_a_phantom() -> None:
    """Nothing at the venue explains it, and the venue holds nothing: phantom."""
    assert explain(D(20), D(0), [], {}).cause is Cause.PHANTOM


def test_a_difference_no_order_explains_is_unknown() -> None:
    """Orders that do not add up to the difference explain nothing: no guessing."""
    orders = [venue_order(request("manual-1", qty="3"), OrderStatus.FILLED, "3")]
    assert explain(D(10), D(15), orders, {}).cause is Cause.UNKNOWN
    assert explain(D(0), D(5), [], {}).cause is Cause.UNKNOWN


def test_counted_fills_are_not_missed() -> None:
    """An own order whose fills were all counted is no evidence of a missed fill."""
    orders = [venue_order(request("td-a-entry", qty="10"), OrderStatus.FILLED, "10")]
    assert explain(D(0), D(5), orders, {"td-a-entry": D(10)}).cause is Cause.UNKNOWN


def test_each_cause_has_its_remedy() -> None:
    """Missed fills are adopted (their position at startup), phantoms adopted, external traded
    back; an unknown cause has no correction."""
    assert remedy_for(Cause.MISSED_FILL, at_startup=False) is Remedy.ADOPT_FILLS
    assert remedy_for(Cause.MISSED_FILL, at_startup=True) is Remedy.ADOPT_POSITION
    assert remedy_for(Cause.PHANTOM, at_startup=False) is Remedy.ADOPT_POSITION
    assert remedy_for(Cause.EXTERNAL, at_startup=True) is Remedy.TRADE_BACK
    assert remedy_for(Cause.UNKNOWN, at_startup=False) is None


def test_a_trade_back_returns_to_tradingd_and_the_rest_to_the_venue() -> None:
    """Trade-back targets tradingd's position; adopting targets the venue's."""
    assert target_after(Remedy.TRADE_BACK, D(10), D(15)) == D(10)
    assert target_after(Remedy.ADOPT_POSITION, D(10), D(0)) == D(0)
    assert expected_holding(Remedy.ADOPT_FILLS, D(0), D(10)) == D(0)
    assert expected_holding(Remedy.TRADE_BACK, D(0), D(5)) == D(5)


def test_modes_decide_report_queue_or_apply() -> None:
    """observe reports; approve queues; auto applies up to the limit, queues above it and
    when it cannot value the correction."""
    limit = D(500)
    assert dispose("observe", Remedy.TRADE_BACK, D(1), limit) is Disposal.REPORT
    assert dispose("approve", Remedy.TRADE_BACK, D(1), limit) is Disposal.QUEUE
    assert dispose("auto", Remedy.TRADE_BACK, D(500), limit) is Disposal.APPLY
    assert dispose("auto", Remedy.TRADE_BACK, D("500.01"), limit) is Disposal.QUEUE
    assert dispose("auto", Remedy.ADOPT_POSITION, None, limit) is Disposal.QUEUE
    assert dispose("auto", None, D(1), limit) is Disposal.REPORT


def test_signal_ids_and_notional() -> None:
    """A correction's signal id is a function of its id; notional needs a price."""
    assert correction_signal_id(7) == correction_signal_id(7) != correction_signal_id(8)
    assert notional_of(D(10), D(7), D(50)) == D(150)
    assert notional_of(D(10), D(7), None) is None


def test_outside_fills_an_executor_took_in_explain_nothing_more() -> None:
    """manual-1's 3 were taken in (counted under its id); only manual-2's 2 explain the rest."""
    orders = [
        venue_order(request("manual-1", qty="3"), OrderStatus.FILLED, "3"),
        venue_order(request("manual-2", qty="2"), OrderStatus.FILLED, "2", venue_id="v-2"),
    ]
    found = explain(D(3), D(5), orders, {"manual-1": D(3)})
    assert found.cause is Cause.EXTERNAL
    assert "manual-2" in found.detail
    assert "manual-1" not in found.detail
    assert explain(D(3), D(5), orders, {}).cause is Cause.UNKNOWN
