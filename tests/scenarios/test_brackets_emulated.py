"""Emulated brackets, forced on the paper venue: the entry goes alone, a take-profit follows
its fills (one live at a time), the stop is held by the executor and sent at market when the
price reaches it."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from actors.ids import client_order_id_for
from actors.records import ProtectionRecorded
from daemon.config import ExecutorConfig
from tests.scenarios.daemon_on_sim import daemon_on_sim, reached, signal

if TYPE_CHECKING:
    from pathlib import Path

EMULATED = ExecutorConfig(brackets="emulated")
BRACKET = {"take_profit": "101", "stop_loss": "95"}


def working(state: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted(
        (o["side"], o["type"], o["qty"]) for o in state["orders"] if o["status"] in ("new", "held")
    )


async def test_the_take_profit_follows_the_fills_one_live_at_a_time(tmp_path: Path) -> None:
    """The entry fills 3, 6, 9, 10: the take-profit is replaced for each filled total, never
    more than the position and never two at once; it then fills and ends it all."""
    async with daemon_on_sim(tmp_path, fill_size=Decimal(3), executor=EMULATED) as scenario:
        await scenario.send(signal("b1", "AAPL", "buy", 10, **BRACKET))
        for exits, (filled, price) in enumerate(((3, "99.9"), (6, "99.8"), (9, "99.7"))):
            # The take-profit for what filled works; the one before it was canceled first.
            await scenario.until(reached("accepted", count=2 + exits))
            await scenario.until(reached("canceled", count=exits))
            state = await scenario.venue.state()
            assert working(state) == [("sell", "limit", str(filled))]
            await scenario.venue.set_prices({"AAPL": price})
        await scenario.until(reached("filled"))
        await scenario.until(reached("accepted", count=5))
        await scenario.settle()
        state = await scenario.venue.state()
        assert working(state) == [("sell", "limit", "10")]
        assert state["orders"][0]["order_class"] in ("", "simple")  # the entry went alone
        for price in ("101.1", "101.2", "101.3", "101.4"):
            await scenario.venue.set_prices({"AAPL": price})
        await scenario.until(reached("filled", count=2))
        await scenario.assert_definitive(orders=5)
        assert scenario.daemon.positions() == {}


async def test_the_held_stop_sells_at_market_when_the_price_reaches_it(tmp_path: Path) -> None:
    """The price falls through 95: the take-profit is canceled, then a market sell of the
    10 held goes out; nothing is left working and the journal says the stop fired."""
    async with daemon_on_sim(tmp_path, executor=EMULATED) as scenario:
        await scenario.send(signal("b1", "AAPL", "buy", 10, **BRACKET))
        await scenario.until(reached("accepted", count=2))
        await scenario.venue.set_prices({"AAPL": "96"})
        await scenario.settle()
        assert scenario.daemon.positions() == {"AAPL": 10}
        await scenario.venue.set_prices({"AAPL": "94.50"})
        await scenario.until(reached("filled", count=2))
        state = await scenario.assert_definitive(orders=3)
        assert scenario.daemon.positions() == {}
        (stop,) = [
            o for o in state["orders"] if o["client_order_id"] == client_order_id_for("b1", "stop1")
        ]
        assert (stop["side"], stop["type"], stop["qty"]) == ("sell", "market", "10")
        reports = [r.state for r in scenario.seen if isinstance(r, ProtectionRecorded)]
        assert reports == ["armed for 10", "stopped at 95"]
