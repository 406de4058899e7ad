"""The kill -9 crash loop's world: one venue process, one journal, and a daemon process
killed at a chosen step of the order path and started again on the same journal.

Each step drives one symbol's order to a known point (found by watching the journal's file
and the venue's truth, with venue faults to hold the point open), kills the daemon there,
sometimes lets the market move while it is down, and restarts it. After every restart the
same signals are fed again, and the books must balance: no order reached the venue twice,
every fill the venue made is in the journal, and the daemon's, the journal's and the venue's
positions agree.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import msgspec
import trio

from brokers.sim import SimControl
from tests.scenarios.crash_processes import (
    DaemonProcess,
    JournalFile,
    daemon_config,
    daemon_process,
    eventually,
    send_signals,
    send_until_killed,
    venue_positions,
    venue_process,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

START_PRICE = Decimal("100.00")
# Each match fills at most this many shares: an order above it fills in parts.
FILL_SIZE = 5
# Step symbols: one per step and iteration, so steps never see each other's orders.
STEP_SYMBOLS = [f"S{a}{b}" for a in "ABCDEFGHIJ" for b in "ABCDEFGHIJ"]
# Symbols shared by the random moments: buys, sells, closes and targets pile up on them.
SHARED_SYMBOLS = ["AAPL", "MSFT", "AMD", "TSLA"]
REPEATED = "orders submitted more than once"
FINAL = ("filled", "canceled", "expired", "rejected", "replaced", "denied")

SCENARIO = f"""
seed = 7
cash = "100000000"
fill_size = "{FILL_SIZE}"

[prices]
{chr(10).join(f'{s} = "{START_PRICE}"' for s in [*SHARED_SYMBOLS, *STEP_SYMBOLS])}
"""

# RiskGuard's pace limits are meant for live flow; the loop's own bursts would trip them.
RISK = """
duplicate_window = 0.001
max_orders_per_second = 1000
max_orders_per_minute = 100000
max_open_orders = 10000
"""
# Short lookups, so an order whose answer was lost settles in moments.
MONITOR = """
first_answer = 0.5
recheck = 2.0
unhealthy_poll = 0.2
lookups_per_second = 50.0
first_connect_grace = 5.0
"""


def signal_line(sid: str, symbol: str, action: str, **fields: Any) -> bytes:
    return msgspec.json.encode({"id": sid, "symbol": symbol, "action": action, **fields})


@attrs.define
class World:
    venue: SimControl
    journal: JournalFile
    config: Path
    # Every signal line sent so far: all of them are fed again after each restart.
    sent: list[bytes] = attrs.field(factory=list)
    # Ids the daemon acked "accepted" (the acks a sender saw).
    acked: set[str] = attrs.field(factory=set)
    daemon: DaemonProcess | None = None
    _nursery: trio.Nursery | None = None

    # --- the daemon's life -----------------------------------------------------------

    async def start(self) -> None:
        assert self._nursery is not None
        self.daemon = await self._nursery.start(_hold_daemon, self.config)
        await self.daemon.ready()

    async def kill(self) -> None:
        assert self.daemon is not None
        await self.daemon.kill()
        self.daemon = None

    async def restart(self) -> None:
        """Start again on the same journal and feed every signal again: none trades twice."""
        await self.venue.fault("clear")
        await self.start()
        assert self.daemon is not None
        acks = await send_signals(self.daemon.socket, self.sent)
        for ack in acks:
            if ack["id"] in self.acked:
                # Acknowledged before the kill, so durable: never taken a second time.
                assert ack["status"] == "duplicate", ack
            else:
                # "accepted" again is right only for a signal whose ack never went out.
                assert ack["status"] in ("duplicate", "accepted"), ack
            if ack["status"] == "accepted":
                self.acked.add(ack["id"])

    # --- signals ---------------------------------------------------------------------

    async def send(self, *lines: bytes) -> list[dict[str, Any]]:
        assert self.daemon is not None
        self.sent.extend(lines)
        acks = await send_signals(self.daemon.socket, list(lines))
        self.acked.update(a["id"] for a in acks if a["status"] == "accepted")
        return acks

    def send_in_background(self, *lines: bytes) -> None:
        """For a kill that may land before the acks: they are read until the daemon dies."""
        assert self.daemon is not None
        assert self._nursery is not None
        self.sent.extend(lines)
        self._nursery.start_soon(send_until_killed, self.daemon.socket, list(lines))

    # --- what the venue and the journal say ------------------------------------------

    async def venue_order(self, cid: str) -> dict[str, Any] | None:
        state = await self.venue.state()
        return next((o for o in state["orders"] if o["client_order_id"] == cid), None)

    async def submissions(self, cid: str) -> int:
        state = await self.venue.state()
        count: int = state["submissions"].get(cid, 0)
        return count

    async def until_journal(
        self, cid: str, what: str, test: Callable[[dict[str, Any]], bool]
    ) -> None:
        async def probe() -> bool | None:
            row = self.journal.order(cid)
            return True if row is not None and test(row) else None

        await eventually(probe, f"the journal to show {cid} {what}")

    async def until_venue(self, what: str, test: Callable[[dict[str, Any]], bool]) -> None:
        async def probe() -> bool | None:
            return True if test(await self.venue.state()) else None

        await eventually(probe, f"the venue to show {what}")

    async def differences(self, *, final: str | None = None) -> list[str]:
        """Every way the books disagree now (empty: they balance); with ``final``, that
        symbol's orders must all be final too."""
        assert self.daemon is not None
        state = await self.venue.state()
        status = await self.daemon.status()
        found: list[str] = []
        # An order the venue refused outright (403: buying power, quantity) leaves nothing
        # to look up: killed before the refusal was journaled, the restart cannot tell it
        # from one that never arrived, and sends it again. That may be refused again, but
        # it is never a second order: only orders the venue holds count here.
        held = {o["client_order_id"] for o in state["orders"]}
        repeated = {cid: n for cid, n in state["submissions"].items() if n != 1 and cid in held}
        if repeated:
            found.append(f"{REPEATED}: {repeated}")
        journal_fills = self.journal.filled_by_order()
        for order in state["orders"]:
            cid, filled = order["client_order_id"], Decimal(order["filled_qty"])
            if journal_fills.get(cid, Decimal(0)) != filled:
                found.append(
                    f"{order['symbol']} {cid}: venue filled {filled}, journal fills "
                    f"{journal_fills.get(cid, Decimal(0))}"
                )
            row = self.journal.order(cid)
            if cid.startswith("td-") and (row is None or row["filled_qty"] != filled):
                found.append(f"{cid}: venue filled {filled} ({order['status']}), journal {row}")
        venue_open = {o["client_order_id"] for o in state["orders"] if o["status"] not in FINAL}
        unfinished = set(self.journal.unfinished())
        if unfinished - venue_open:
            found.append(
                f"journal orders not final that the venue has final: {unfinished - venue_open}"
            )
        working = {
            o["client_order_id"]
            for o in state["orders"]
            if o["symbol"] == final and o["status"] not in FINAL
        }
        if final is not None and (working or self.journal.unfinished(final)):
            found.append(
                f"{final} not final: venue {working}, journal {self.journal.unfinished(final)}"
            )
        at_venue = venue_positions(state)
        daemon = {s: Decimal(q) for s, q in status["positions"].items() if Decimal(q)}
        if daemon != at_venue:
            found.append(f"daemon positions {daemon} != venue {at_venue}")
        if self.journal.positions() != at_venue:
            found.append(f"journal positions {self.journal.positions()} != venue {at_venue}")
        return found

    async def balanced(self, *, final: str | None = None) -> None:
        """Wait until the books balance; fail with what still differs."""
        last: list[str] = []

        async def probe() -> bool | None:
            nonlocal last
            last = await self.differences(final=final)
            # An order sent twice never heals: no point waiting for it.
            assert not any(d.startswith(REPEATED) for d in last), last
            return True if not last else None

        try:
            await eventually(probe, "the books to balance")
        except AssertionError as exc:
            raise AssertionError(f"{exc}:\n  " + "\n  ".join(last)) from None


async def _hold_daemon(config: Path, *, task_status: trio.TaskStatus[DaemonProcess]) -> None:
    async with daemon_process(config) as daemon:
        task_status.started(daemon)
        await daemon.proc.wait()


@asynccontextmanager
async def crash_world(workdir: Path) -> AsyncIterator[World]:
    scenario = workdir / "scenario.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    async with venue_process(scenario) as endpoints, SimControl(endpoints) as control:
        config = daemon_config(workdir, endpoints, risk=RISK, monitor=MONITOR)
        async with trio.open_nursery() as nursery:
            world = World(control, JournalFile(workdir / "journal.sqlite3"), config)
            world._nursery = nursery
            await world.start()
            try:
                yield world
            finally:
                nursery.cancel_scope.cancel()


__all__ = [
    "FILL_SIZE",
    "SHARED_SYMBOLS",
    "START_PRICE",
    "STEP_SYMBOLS",
    "World",
    "crash_world",
    "signal_line",
    "venue_positions",
]
