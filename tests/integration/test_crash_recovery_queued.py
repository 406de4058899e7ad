"""A signal acked "accepted" while queued behind an order in flight, then a kill -9: the
restart works it, once, and a resend of it is still a duplicate."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
import msgspec
import trio

from actors.ids import client_order_id_for
from actors.messages import parse_signal
from actors.records import IntentRecorded, OrderStateRecorded, SignalFinished, SignalRecorded
from brokers.base import OrderRequest, Side, utc_now
from brokers.sim import SimControl, SimEndpoints, running_sim
from daemon.journal.store import open_journal
from tests.integration.daemons import daemon_on

if TYPE_CHECKING:
    from pathlib import Path

    from daemon.supervisor import Daemon

BUY_LINE = b'{"id":"buy-1","symbol":"AAPL","action":"buy","qty":3}'
TARGET_LINE = b'{"id":"flat-1","symbol":"AAPL","action":"target","target_qty":0}'
BUY_CID = client_order_id_for("buy-1", "entry")
TARGET_CID = client_order_id_for("flat-1", "target")
BUY = OrderRequest(client_order_id=BUY_CID, symbol="AAPL", side=Side.BUY, qty=Decimal(3))


async def journal_as_killed_with_a_queued_target(path: Path) -> None:
    """The buy acked with its intent durable and its POST in flight; the target acked
    "accepted" while queued behind it (journaled as the executor encodes it), not started."""
    now = utc_now()
    queued = msgspec.json.encode(parse_signal(TARGET_LINE)).decode()
    async with open_journal(path) as journal:
        await journal.commit(
            SignalRecorded(
                at=now, signal_id="buy-1", source="router", raw=BUY_LINE.decode(), status="accepted"
            ),
            IntentRecorded(at=now, signal_id="buy-1", leg="entry", request=BUY),
            OrderStateRecorded(at=now, client_order_id=BUY_CID, symbol="AAPL", state="sending"),
            SignalRecorded(
                at=now,
                signal_id="flat-1",
                source="router",
                raw=queued,
                status="accepted",
                reason="queued behind an earlier signal",
            ),
        )


async def venue_took_the_buy(venue: SimEndpoints) -> None:
    async with httpx.AsyncClient(base_url=venue.alpaca_url) as client:
        body = {
            "symbol": "AAPL",
            "qty": "3",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            "client_order_id": BUY_CID,
        }
        headers = {"APCA-API-KEY-ID": "paper", "APCA-API-SECRET-KEY": "paper"}
        (await client.post("/v2/orders", json=body, headers=headers)).raise_for_status()


def finished_signals(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT signal_id, reason FROM signals_finished"))
    finally:
        conn.close()


async def test_a_queued_target_acked_before_the_kill_trades_once_after_the_restart(
    tmp_path: Path,
) -> None:
    """The venue filled the buy before the kill; the restart runs the queued target to flat
    (one sell), a resend of it is a duplicate, and a second restart replays nothing."""
    path = tmp_path / "journal.sqlite3"
    await journal_as_killed_with_a_queued_target(path)
    async with running_sim() as venue, SimControl(venue) as control:
        await venue_took_the_buy(venue)
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(10):
                await daemon.activity.wait_idle()
                again = await daemon.intake.submit(TARGET_LINE, "stdin")
            assert again.status == "duplicate"
            assert (await control.state())["submissions"] == {BUY_CID: 1, TARGET_CID: 1}
            assert daemon.positions() == {}
        assert "flat-1" in finished_signals(path)
        async with open_journal(path) as journal:
            assert await journal.unfinished_signals() == []
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(10):
                await daemon.activity.wait_idle()
            assert (await control.state())["submissions"] == {BUY_CID: 1, TARGET_CID: 1}
            assert daemon.positions() == {}


async def test_a_queued_buy_behind_an_order_the_venue_never_got_trades_once(
    tmp_path: Path,
) -> None:
    """The POST never left before the kill: the restart sends the buy, then works the queued
    signal (here a second buy) after it: both trade exactly once."""
    path = tmp_path / "journal.sqlite3"
    now = utc_now()
    second = b'{"id":"buy-2","symbol":"AAPL","action":"buy","qty":2}'
    async with open_journal(path) as journal:
        await journal.commit(
            SignalRecorded(
                at=now, signal_id="buy-1", source="router", raw=BUY_LINE.decode(), status="accepted"
            ),
            IntentRecorded(at=now, signal_id="buy-1", leg="entry", request=BUY),
            OrderStateRecorded(at=now, client_order_id=BUY_CID, symbol="AAPL", state="sending"),
            SignalRecorded(
                at=now,
                signal_id="buy-2",
                source="stdin",
                raw=second.decode(),
                status="accepted",
                reason="queued behind an earlier signal",
            ),
        )
    async with (
        running_sim() as venue,
        SimControl(venue) as control,
        daemon_on(venue, path) as daemon,
    ):
        with trio.fail_after(10):
            await daemon.activity.wait_idle()
            again = await daemon.intake.submit(second, "stdin")
        assert again.status == "duplicate"
        submissions = (await control.state())["submissions"]
        assert submissions == {BUY_CID: 1, client_order_id_for("buy-2", "entry"): 1}
        assert daemon.positions() == {"AAPL": Decimal(5)}


async def finished_by_now(daemon: Daemon, signal_id: str) -> None:
    """Return once ``signal_id``'s work is journaled as finished, wherever the run is now."""
    with daemon.journal.watch() as watch:
        # Records handed over before the watch began are in the file once flushed.
        await daemon.journal.flush()
        if signal_id not in {u.signal_id for u in await daemon.journal.unfinished_signals()}:
            return
        async for record in watch:
            if isinstance(record, SignalFinished) and record.signal_id == signal_id:
                return
    raise AssertionError("journal closed")


async def test_a_rebalance_acked_before_the_kill_plans_from_the_positions_after_it(
    tmp_path: Path,
) -> None:
    """Killed after the rebalance's ack, before its legs: the restart plans it from the
    position held now (60 AAPL), selling the excess and buying MSFT, once each."""
    path = tmp_path / "journal.sqlite3"
    line = b'{"id":"r","action":"rebalance","targets":{"AAPL":0.03,"MSFT":0.05}}'
    async with running_sim() as venue, SimControl(venue) as control:
        await control.set_prices({"AAPL": "100", "MSFT": "200"})
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(10):
                buy = b'{"id":"b","symbol":"AAPL","action":"buy","qty":60}'
                assert (await daemon.intake.submit(buy, "stdin")).status == "accepted"
                await daemon.activity.wait_idle()
        equity = Decimal((await control.state())["account"]["equity"])
        async with open_journal(path) as journal:
            await journal.commit(
                SignalRecorded(
                    at=utc_now(),
                    signal_id="r",
                    source="stdin",
                    raw=line.decode(),
                    status="accepted",
                    reason="rebalance: 1 sells then 1 buys",
                )
            )
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(20):
                await finished_by_now(daemon, "r")
                await daemon.activity.wait_idle()
                again = await daemon.intake.submit(line, "stdin")
            assert again.status == "duplicate"
            aapl = (equity * Decimal("0.03") / 100).to_integral_value(rounding="ROUND_DOWN")
            msft = (equity * Decimal("0.05") / 200).to_integral_value(rounding="ROUND_DOWN")
            assert daemon.positions() == {"AAPL": aapl, "MSFT": msft}
            submissions = (await control.state())["submissions"]
            assert submissions == {
                client_order_id_for("b", "entry"): 1,
                client_order_id_for("r:AAPL", "target"): 1,
                client_order_id_for("r:MSFT", "target"): 1,
            }
