"""A restart while exits guard a position: the next run follows them again, so an exit that
fills after the restart moves the position, and a held stop still fires."""

from __future__ import annotations

from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import trio

from actors.records import FillRecorded, JournalRecord
from brokers.sim import SimControl, running_sim
from daemon.config import BrokerConfig, Config, ExecutorConfig
from daemon.credentials import load_credentials
from daemon.supervisor import Daemon, open_daemon
from tests.scenarios.daemon_on_sim import PRICES, reached, signal

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

BRACKET = {"take_profit": "101", "stop_loss": "95"}


async def read_until(
    records: trio.MemoryReceiveChannel[JournalRecord], done: Callable[[list[Any]], bool]
) -> None:
    seen: list[Any] = []
    while not done(seen):
        seen.append(await records.receive())


def a_sell_filled(seen: list[Any]) -> bool:
    return any(isinstance(r, FillRecorded) and r.side == "sell" for r in seen)


@asynccontextmanager
async def restarted(
    tmp_path: Path, executor: ExecutorConfig
) -> AsyncIterator[tuple[Daemon, SimControl]]:
    """A first run buys 10 with a bracket and stops once the exits work; yields the second
    run on the same journal and venue."""
    journal = str(tmp_path / "journal.sqlite3")
    credentials = load_credentials("paper", {}, None)
    async with running_sim() as venue, SimControl(venue) as control:
        await control.set_prices(PRICES)
        broker = BrokerConfig(
            kind="paper",
            base_url=venue.alpaca_url,
            stream_url=venue.stream_url,
            data_url=venue.data_url,
        )
        config = Config(broker=broker, executor=executor)
        async with open_daemon(config, credentials, journal_path=journal) as first:
            with first.journal.watch() as records, trio.fail_after(10):
                await first.intake.submit(signal("b1", "AAPL", "buy", 10, **BRACKET), "test")
                await read_until(records, reached("filled"))
                await first.activity.wait_idle()
                await first.journal.flush()
            first.stop()
        async with open_daemon(config, credentials, journal_path=journal) as second:
            assert second.positions() == {"AAPL": 10}
            with trio.fail_after(10):
                await second.prices.wait_for("AAPL")
            yield second, control
            second.stop()


async def assert_flat_and_settled(daemon: Daemon, control: SimControl) -> dict[str, Any]:
    with trio.fail_after(10):
        await daemon.activity.wait_idle()
    state = await control.state()
    assert [p for p in state["positions"] if Decimal(p["qty"])] == []
    assert daemon.positions() == {}
    assert daemon.unresolved() == 0
    assert set(state["submissions"].values()) == {1}
    return state


async def test_native_legs_are_followed_after_a_restart(tmp_path: Path) -> None:
    """The take-profit leg fills after the restart: the new run counts it (flat, like the
    venue) and the stop leg ends with it."""
    async with restarted(tmp_path, ExecutorConfig()) as (second, control):
        assert len(second.executors["AAPL"].unresolved()) == 2
        with second.journal.watch() as records, trio.fail_after(10):
            await control.set_prices({"AAPL": "101.50"})
            await read_until(records, a_sell_filled)
        state = await assert_flat_and_settled(second, control)
        assert sorted(o["status"] for o in state["orders"]) == ["canceled", "filled", "filled"]


async def test_a_restart_re_arms_the_held_stop(tmp_path: Path) -> None:
    """Emulated: the adopted take-profit is the exit again and the stop is held again, so
    the price falling through the stop still sells."""
    async with restarted(tmp_path, ExecutorConfig(brackets="emulated")) as (second, control):
        assert second.executors["AAPL"].protection.holds_stop
        with second.journal.watch() as records, trio.fail_after(10):
            await control.set_prices({"AAPL": "94"})
            await read_until(records, a_sell_filled)
        state = await assert_flat_and_settled(second, control)
        assert sorted(o["status"] for o in state["orders"]) == ["canceled", "filled", "filled"]
