"""Incident 000 replayed against the paper venue: exits only for what filled (#10), and a
position whose exits cannot be placed is flattened, not left naked (#2)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from actors.ids import client_order_id_for
from actors.records import JournalRecord, OrderStateRecorded, ProtectionRecorded
from tests.scenarios.daemon_on_sim import Scenario, daemon_on_sim, reached, signal

if TYPE_CHECKING:
    from pathlib import Path

ENTRY = client_order_id_for("b1", "entry")
EXITS = client_order_id_for("b1", "exit1")


async def partly_filled_entry_canceled(scenario: Scenario, *, refuse_exits: bool = False) -> None:
    """A bracket buy of 10 fills 3 (the venue fills 3 a match), then is canceled at the
    venue (by hand, say): its native legs never armed."""
    await scenario.send(signal("b1", "AAPL", "buy", 10, take_profit="101", stop_loss="95"))
    await scenario.until(reached("partially_filled", filled_qty=3))
    if refuse_exits:
        await scenario.venue.fault("reject_next")
    venue_id = scenario.order(ENTRY).venue_order_id
    assert venue_id is not None
    await scenario.daemon.broker.cancel_order(venue_id)


def exits_working(seen: list[JournalRecord]) -> bool:
    return any(
        isinstance(r, OrderStateRecorded) and r.client_order_id == EXITS and r.state == "accepted"
        for r in seen
    )


def venue_order(state: dict[str, Any], client_order_id: str) -> dict[str, Any]:
    orders: list[dict[str, Any]] = state["orders"]
    (order,) = [o for o in orders if o["client_order_id"] == client_order_id]
    return order


async def test_000_10_exits_only_for_the_filled_part(tmp_path: Path) -> None:
    """000 #10: an entry filled 3 of 10 then canceled gets an oco pair for exactly 3."""
    async with daemon_on_sim(tmp_path, fill_size=Decimal(3)) as scenario:
        await partly_filled_entry_canceled(scenario)
        await scenario.until(exits_working)
        await scenario.settle()
        state = await scenario.venue.state()
        exits = venue_order(state, EXITS)
        assert (exits["order_class"], exits["side"], exits["qty"]) == ("oco", "sell", "3")
        assert exits["limit_price"] == "101"
        protection = scenario.daemon.executors["AAPL"].protection.current
        assert protection is not None
        (stop,) = protection.exits - {EXITS}
        stop_leg = venue_order(state, stop)
        assert (stop_leg["type"], stop_leg["qty"], stop_leg["stop_price"]) == ("stop", "3", "95")
        assert scenario.daemon.positions() == {"AAPL": 3}
        # The take-profit fills at the venue: flat, and the stop ends with it.
        await scenario.venue.set_prices({"AAPL": "101.20"})
        await scenario.until(reached("filled"))
        state = await scenario.assert_definitive(orders=2)
        assert scenario.daemon.positions() == {}
        assert venue_order(state, EXITS)["status"] == "filled"


async def test_000_2_exits_refused_then_position_flattened(tmp_path: Path) -> None:
    """000 #2: the venue refuses the exits; the flatten policy closes the 3 held, and the
    journal says so."""
    async with daemon_on_sim(tmp_path, fill_size=Decimal(3)) as scenario:
        await partly_filled_entry_canceled(scenario, refuse_exits=True)
        await scenario.until(reached("rejected"))
        # The refused request never reached the venue's book: entry and flatten did.
        state = await scenario.assert_definitive(orders=2)
        assert scenario.order(EXITS).state.value == "rejected"
        assert scenario.daemon.positions() == {}
        flatten = venue_order(state, client_order_id_for("b1", "flatten1"))
        assert (flatten["side"], flatten["qty"], flatten["status"]) == ("sell", "3", "filled")
        reports = [r.state for r in scenario.seen if isinstance(r, ProtectionRecorded)]
        assert reports[-1] == "failed: flattened"
