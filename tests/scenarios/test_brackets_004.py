"""Incident 004 replayed against the paper venue: a take-profit that filled at the venue is
learned from the stream, and a later close sends nothing instead of flipping the position."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

import trio

from actors.records import FillRecorded
from daemon.summary import build_summary
from tests.scenarios.daemon_on_sim import daemon_on_sim, reached, signal

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


async def test_004_3_take_profit_filled_at_venue_then_close_sends_nothing(
    tmp_path: Path,
) -> None:
    """004 #3: the bracket's TP fills at the venue; the close that follows finds the
    position flat, sends no order, and the position is never flipped."""
    async with daemon_on_sim(tmp_path) as scenario:
        (ack,) = await scenario.send(
            signal("b1", "AAPL", "buy", 10, take_profit="101", stop_loss="95")
        )
        assert ack.status == "accepted"
        await scenario.until(reached("filled"))
        assert scenario.daemon.positions() == {"AAPL": 10}
        await scenario.venue.set_prices({"AAPL": "101.50"})
        await scenario.until(reached("filled", count=2))
        assert scenario.daemon.positions() == {}
        (close,) = await scenario.send(signal("c1", "AAPL", "close"))
        assert (close.status, close.reason) == ("accepted", "no order: position is flat")
        state = await scenario.assert_definitive(orders=1)
        statuses = sorted(o["status"] for o in state["orders"])
        assert statuses == ["canceled", "filled", "filled"]
        assert scenario.daemon.positions() == {}
        exits = [r for r in scenario.seen if isinstance(r, FillRecorded) and r.side == "sell"]
        assert [(r.qty, r.price) for r in exits] == [(Decimal(10), Decimal("101.50"))]


async def test_bracket_exit_fills_and_the_sibling_cancel_never_comes(tmp_path: Path) -> None:
    """#4: the TP fills, the venue cancels the stop without saying so; the monitor's lookup
    ends it: nothing left working, one submission, positions equal the venue's."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.venue.fault("miss_bracket_cancel")
        await scenario.send(signal("b1", "AAPL", "buy", 10, take_profit="101", stop_loss="95"))
        await scenario.until(reached("filled"))
        await scenario.venue.set_prices({"AAPL": "101.50"})
        await scenario.until(reached("canceled"))
        state = await scenario.assert_definitive(orders=1)
        assert sorted(o["status"] for o in state["orders"]) == ["canceled", "filled", "filled"]
        assert scenario.daemon.positions() == {}


async def test_004_dca_moves_the_take_profit_to_the_new_average(tmp_path: Path) -> None:
    """004 (DCA): 10 bought at 100 with TP 102 / SL 95, 30 more at 96: the old exits are
    canceled and one pair for all 40 works at TP 99 / SL 92 (the average moved to 97);
    never two live TPs."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.send(signal("b1", "AAPL", "buy", 10, take_profit="102", stop_loss="95"))
        await scenario.until(reached("filled"))
        await scenario.venue.set_prices({"AAPL": "96"})
        (add,) = await scenario.send(signal("b2", "AAPL", "buy", 30))
        assert add.status == "accepted", add
        await scenario.until(reached("filled", count=2))
        await scenario.settle()
        state = await scenario.venue.state()
        working = [o for o in state["orders"] if o["status"] in ("new", "held")]
        assert sorted(
            (o["type"], o["qty"], o["limit_price"] or o["stop_price"]) for o in working
        ) == [
            ("limit", "40", "99"),
            ("stop", "40", "92"),
        ]
        assert scenario.daemon.positions() == {"AAPL": 40}
        await scenario.venue.set_prices({"AAPL": "99.10"})
        await scenario.until(reached("filled", count=3))
        state = await scenario.assert_definitive(orders=3)
        assert scenario.daemon.positions() == {}
        assert Decimal(state["realized_pl"]["AAPL"]) == Decimal("84.00")


async def test_a_bracket_whose_answer_was_lost_is_looked_up_with_its_legs(tmp_path: Path) -> None:
    """The venue takes the bracket but its answer never arrives: the lookup by client id
    brings the order and its legs, nothing is sent twice, and the TP's fill still counts."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.venue.fault("lose_response")
        await scenario.send(signal("b1", "AAPL", "buy", 10, take_profit="101", stop_loss="95"))
        await scenario.until(reached("accepted", count=3))  # the entry and its two legs
        await scenario.settle()
        assert scenario.daemon.positions() == {"AAPL": 10}
        await scenario.venue.set_prices({"AAPL": "101.50"})
        await scenario.until(reached("filled", count=2))
        state = await scenario.assert_definitive(orders=1)
        assert sorted(o["status"] for o in state["orders"]) == ["canceled", "filled", "filled"]
        assert scenario.daemon.positions() == {}


async def test_resting_exits_are_followed_but_not_unresolved(tmp_path: Path) -> None:
    """The entry filled and its exits rest at the venue: they are still followed, but no
    outcome is awaited, so `run --once`'s summary counts nothing unresolved."""
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.send(signal("b1", "AAPL", "buy", 10, take_profit="101", stop_loss="95"))
        await scenario.until(reached("filled"))
        with trio.fail_after(10):
            await scenario.daemon.activity.wait_idle()
        assert len(scenario.daemon.executors["AAPL"].unresolved()) == 2
        assert (await build_summary(scenario.daemon)).unresolved == 0


async def test_bracket_legs_are_not_reported_as_external_orders(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The legs' client ids are the venue's, yet they are ours: no "external order" warning."""
    caplog.set_level(logging.WARNING)
    async with daemon_on_sim(tmp_path) as scenario:
        await scenario.send(signal("b1", "AAPL", "buy", 10, take_profit="101", stop_loss="95"))
        await scenario.until(reached("filled"))
        await scenario.venue.set_prices({"AAPL": "101.50"})
        await scenario.until(reached("filled", count=2))
        await scenario.assert_definitive(orders=1)
    assert not [r for r in caplog.records if "external order" in r.getMessage()]
