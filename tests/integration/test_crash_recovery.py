"""A journal left behind mid-order (as a kill -9 leaves it), then a restart on the same venue:
the order is neither lost nor sent twice."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
import trio

from actors.ids import client_order_id_for
from actors.records import IntentRecorded, OrderStateRecorded, SignalRecorded
from brokers.base import OrderRequest, Side, utc_now
from brokers.sim import SimControl, running_sim
from daemon.journal.store import open_journal
from tests.integration.daemons import daemon_on

if TYPE_CHECKING:
    from pathlib import Path

CID = client_order_id_for("crash-1", "entry")
REQUEST = OrderRequest(client_order_id=CID, symbol="AAPL", side=Side.BUY, qty=Decimal(3))


async def journal_as_killed_after_the_intent(path: Path) -> None:
    """The signal acked, its intent durable, the POST's fate unknown."""
    now = utc_now()
    async with open_journal(path) as journal:
        await journal.commit(
            SignalRecorded(
                at=now,
                signal_id="crash-1",
                source="stdin",
                raw='{"id":"crash-1","symbol":"AAPL","action":"buy","qty":3}',
                status="accepted",
            ),
            IntentRecorded(at=now, signal_id="crash-1", leg="entry", request=REQUEST),
            OrderStateRecorded(at=now, client_order_id=CID, symbol="AAPL", state="sending"),
        )


async def test_intent_that_never_reached_the_venue_is_sent_once_after_restart(
    tmp_path: Path,
) -> None:
    """Killed before the POST left: the restart sends it, once, and the trade happens."""
    path = tmp_path / "journal.sqlite3"
    await journal_as_killed_after_the_intent(path)
    async with running_sim() as venue, SimControl(venue) as control:
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(10):
                await daemon.activity.wait_idle()
                again = await daemon.intake.submit(
                    b'{"id":"crash-1","symbol":"AAPL","action":"buy","qty":3}', "stdin"
                )
            assert again.status == "duplicate"
            state = await control.state()
            assert state["submissions"] == {CID: 1}
            assert daemon.positions() == {"AAPL": Decimal(3)}
        async with open_journal(path) as journal:
            (order,) = await journal.orders()
            assert order.state == "filled"


async def test_order_the_venue_took_before_the_crash_is_not_sent_again(tmp_path: Path) -> None:
    """Killed after the POST left: the restart finds the order by client id and records it."""
    path = tmp_path / "journal.sqlite3"
    await journal_as_killed_after_the_intent(path)
    async with running_sim() as venue, SimControl(venue) as control:
        async with httpx.AsyncClient(base_url=venue.alpaca_url) as client:
            body = {
                "symbol": "AAPL",
                "qty": "3",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
                "client_order_id": CID,
            }
            headers = {"APCA-API-KEY-ID": "paper", "APCA-API-SECRET-KEY": "paper"}
            (await client.post("/v2/orders", json=body, headers=headers)).raise_for_status()
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(10):
                await daemon.activity.wait_idle()
            state = await control.state()
            assert state["submissions"] == {CID: 1}
            assert daemon.positions() == {"AAPL": Decimal(3)}
        async with open_journal(path) as journal:
            (order,) = await journal.orders()
            assert order.state == "filled"
            assert order.filled_qty == Decimal(3)
