"""A journal left behind between the two legs of an order across zero (as a kill -9 leaves
it), then a restart on the same venue: neither leg is sent twice, the open leg follows the
flat one when the interruption is recent, and an old one is left flat."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import trio

from actors.ids import client_order_id_for
from actors.records import IntentRecorded, JournalRecord, OrderStateRecorded, SignalRecorded
from brokers.base import OrderRequest, Side, utc_now
from brokers.sim import SimControl, SimEndpoints, running_sim
from daemon.journal.store import open_journal
from tests.integration.daemons import daemon_on

if TYPE_CHECKING:
    from pathlib import Path

LONG = client_order_id_for("long", "entry")
TO_ZERO = client_order_id_for("rev", "flat")
OPEN = client_order_id_for("rev", "open")
REVERSE = b'{"id":"rev","symbol":"AAPL","action":"target","target_qty":-3}'


def leg(cid: str, side: Side, qty: int) -> OrderRequest:
    return OrderRequest(client_order_id=cid, symbol="AAPL", side=side, qty=Decimal(qty))


async def post(venue: SimEndpoints, request: OrderRequest) -> None:
    """An order placed straight at the venue: the POST a killed daemon had sent."""
    body = {
        "symbol": request.symbol,
        "qty": str(request.qty),
        "side": request.side.value,
        "type": "market",
        "time_in_force": "day",
        "client_order_id": request.client_order_id,
    }
    headers = {"APCA-API-KEY-ID": "paper", "APCA-API-SECRET-KEY": "paper"}
    async with httpx.AsyncClient(base_url=venue.alpaca_url) as client:
        (await client.post("/v2/orders", json=body, headers=headers)).raise_for_status()


def sent(
    signal_id: str, request: OrderRequest, *, filled: int | None = None
) -> list[JournalRecord]:
    """The intent of one leg and its state: ``sending`` (fate unknown), or filled."""
    now = utc_now()
    state = OrderStateRecorded(
        at=now,
        client_order_id=request.client_order_id,
        symbol="AAPL",
        state="sending" if filled is None else "filled",
        filled_qty=Decimal(filled or 0),
    )
    leg_name = request.client_order_id.rsplit("-", 1)[-1]
    return [IntentRecorded(at=now, signal_id=signal_id, leg=leg_name, request=request), state]


def accepted(signal_id: str, raw: bytes) -> SignalRecorded:
    return SignalRecorded(
        at=utc_now(), signal_id=signal_id, source="stdin", raw=raw.decode(), status="accepted"
    )


async def long_5(venue: SimEndpoints) -> list[JournalRecord]:
    request = leg(LONG, Side.BUY, 5)
    await post(venue, request)
    raw = b'{"id":"long","symbol":"AAPL","action":"buy","qty":5}'
    return [accepted("long", raw), *sent("long", request, filled=5)]


async def test_killed_after_the_flat_leg_left_opens_the_rest_once(tmp_path: Path) -> None:
    """Long 5, target -3: the SELL 5 reached the venue and filled, then the daemon died
    before the open leg's intent. The restart finds the SELL 5 by client id (never sent
    again), and the open SELL 3 follows it once: short 3. The signal stays spent."""
    path = tmp_path / "journal.sqlite3"
    async with running_sim() as venue, SimControl(venue) as control:
        records = await long_5(venue)
        to_zero = leg(TO_ZERO, Side.SELL, 5)
        await post(venue, to_zero)
        async with open_journal(path) as journal:
            await journal.commit(*records, accepted("rev", REVERSE), *sent("rev", to_zero))
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(10):
                await daemon.activity.wait_idle()
                again = await daemon.intake.submit(REVERSE, "stdin")
            assert again.status == "duplicate"
            state = await control.state()
            assert state["submissions"] == {LONG: 1, TO_ZERO: 1, OPEN: 1}
            assert short_3(state)
            assert daemon.positions() == {"AAPL": Decimal(-3)}
        async with open_journal(path) as journal:
            orders = {o.client_order_id: o.state for o in await journal.orders()}
        assert orders == {LONG: "filled", TO_ZERO: "filled", OPEN: "filled"}


async def test_killed_before_the_flat_leg_left_sends_both_once(tmp_path: Path) -> None:
    """The flat leg's intent was durable but its POST never left: the restart sends it, and
    the open leg only once it has filled."""
    path = tmp_path / "journal.sqlite3"
    async with running_sim() as venue, SimControl(venue) as control:
        records = await long_5(venue)
        to_zero = leg(TO_ZERO, Side.SELL, 5)
        async with open_journal(path) as journal:
            await journal.commit(*records, accepted("rev", REVERSE), *sent("rev", to_zero))
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(10):
                await daemon.activity.wait_idle()
            state = await control.state()
            assert state["submissions"] == {LONG: 1, TO_ZERO: 1, OPEN: 1}
            assert short_3(state)


async def test_an_old_interruption_is_left_flat(tmp_path: Path) -> None:
    """The daemon died between the legs and came back ten minutes later: the open leg would
    be a new trade nobody asked for by now, so the position stays flat."""
    path = tmp_path / "journal.sqlite3"
    async with running_sim() as venue, SimControl(venue) as control:
        records = await long_5(venue)
        to_zero = leg(TO_ZERO, Side.SELL, 5)
        await post(venue, to_zero)
        old = [
            msgspec.structs.replace(r, at=r.at - timedelta(minutes=10))
            for r in (accepted("rev", REVERSE), *sent("rev", to_zero, filled=5))
        ]
        async with open_journal(path) as journal:
            await journal.commit(*records, *old)
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(10):
                await daemon.activity.wait_idle()
            state = await control.state()
            assert state["submissions"] == {LONG: 1, TO_ZERO: 1}
            assert state["positions"] == []
            assert daemon.positions() == {}


async def test_a_signal_stopped_on_purpose_is_not_resumed(tmp_path: Path) -> None:
    """RiskGuard denied the open leg (the signal journaled incomplete), then a restart: the
    denial stands, nothing is asked again, the position stays flat."""
    path = tmp_path / "journal.sqlite3"
    async with running_sim() as venue, SimControl(venue) as control:
        records = await long_5(venue)
        to_zero = leg(TO_ZERO, Side.SELL, 5)
        await post(venue, to_zero)
        stopped = msgspec.structs.replace(
            accepted("rev", REVERSE), status="incomplete", reason="the open leg was denied"
        )
        denied = OrderStateRecorded(
            at=utc_now(), client_order_id=OPEN, symbol="AAPL", state="denied"
        )
        async with open_journal(path) as journal:
            await journal.commit(
                *records,
                accepted("rev", REVERSE),
                *sent("rev", to_zero, filled=5),
                denied,
                stopped,
            )
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(10):
                await daemon.activity.wait_idle()
            state = await control.state()
            assert state["submissions"] == {LONG: 1, TO_ZERO: 1}
            assert daemon.positions() == {}


def short_3(state: dict[str, Any]) -> bool:
    return [(p["symbol"], Decimal(p["qty"])) for p in state["positions"]] == [("AAPL", -3)]


async def test_killed_after_the_open_legs_intent_sends_it_once(tmp_path: Path) -> None:
    """The SELL 5 filled and was journaled final; the open leg's intent was durable but its
    POST never left. The restart sends the open leg once (same client id) and ends short 3;
    the first leg is not sent again."""
    path = tmp_path / "journal.sqlite3"
    async with running_sim() as venue, SimControl(venue) as control:
        records = await long_5(venue)
        to_zero = leg(TO_ZERO, Side.SELL, 5)
        await post(venue, to_zero)
        opening = [
            accepted("rev", REVERSE),
            *sent("rev", to_zero, filled=5),
            *sent("rev", leg(OPEN, Side.SELL, 3)),
        ]
        async with open_journal(path) as journal:
            await journal.commit(*records, *opening)
        async with daemon_on(venue, path) as daemon:
            with trio.fail_after(10):
                await daemon.activity.wait_idle()
            state = await control.state()
            assert state["submissions"] == {LONG: 1, TO_ZERO: 1, OPEN: 1}
            assert [(p["symbol"], Decimal(p["qty"])) for p in state["positions"]] == [("AAPL", -3)]
            assert daemon.positions() == {"AAPL": Decimal(-3)}
