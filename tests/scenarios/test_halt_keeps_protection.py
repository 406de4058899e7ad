"""The kill switch keeps the stops: `halt` cancels working entries and leaves the exits that
guard open positions at the venue (native brackets and emulated ones), across a restart and
after `resume`; `halt --flatten` closes each position as one journaled step per symbol."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import trio

from actors.executor.core_halt import HALT_CANCEL
from actors.records import (
    JournalRecord,
    OrderStateRecorded,
    ProtectionPhase,
    ProtectionRecorded,
    SignalRecorded,
)
from brokers.sim import SimControl, running_sim
from daemon.config import BrokerConfig, Config, ExecutorConfig
from daemon.credentials import load_credentials
from daemon.supervisor import open_daemon
from tests.scenarios.daemon_on_sim import (
    FAST,
    PRICES,
    SETTLE_LIMIT,
    SYMBOLS,
    Scenario,
    daemon_on_sim,
    reached,
    signal,
)

if TYPE_CHECKING:
    from pathlib import Path

OPEN = ("new", "held", "accepted", "partially_filled")


def bracket(symbol: str) -> dict[str, str]:
    price = PRICES[symbol]
    return {"take_profit": str(price * Decimal("1.05")), "stop_loss": str(price * Decimal("0.9"))}


def working_at_venue(state: dict[str, Any], symbol: str) -> list[tuple[str, str]]:
    """The symbol's open orders at the venue, as (side, type)."""
    return sorted(
        (o["side"], o["type"])
        for o in state["orders"]
        if o["symbol"] == symbol and o["status"] in OPEN
    )


async def bracketed_position(scenario: Scenario, sid: str, symbol: str, exits: int) -> None:
    """Buy 10 ``symbol`` with a bracket; return once its ``exits`` work at the venue."""
    [ack] = await scenario.send(signal(sid, symbol, "buy", 10, **bracket(symbol)))
    assert ack.status == "accepted"
    await scenario.settle()
    state = await scenario.venue.state()
    assert len(working_at_venue(state, symbol)) == exits, state["orders"]
    assert scenario.daemon.positions()[symbol] == 10


async def resting_entry(scenario: Scenario, sid: str, symbol: str) -> str:
    """A limit buy far below the market: it rests at the venue. Its client id."""
    bid = str(PRICES[symbol] * Decimal("0.5"))
    [ack] = await scenario.send(signal(sid, symbol, "buy", 1, order_type="limit", limit_price=bid))
    assert ack.status == "accepted"

    def resting(seen: list[JournalRecord]) -> bool:
        return any(
            isinstance(r, OrderStateRecorded) and r.symbol == symbol and r.state == "accepted"
            for r in seen
        )

    await scenario.until(resting)
    [cid] = [o.client_order_id for o in scenario.daemon.executors[symbol].unresolved()]
    return cid


async def test_halt_keeps_a_native_brackets_exits_and_cancels_the_working_entry(
    tmp_path: Path,
) -> None:
    """Native bracket on AAPL, a resting entry on MSFT: halt cancels the entry (journaled as
    the halt's) and leaves both AAPL exits at the venue; resume leaves them too."""
    async with daemon_on_sim(tmp_path) as scenario:
        await bracketed_position(scenario, "b1", "AAPL", exits=2)
        entry = await resting_entry(scenario, "e1", "MSFT")
        with trio.fail_after(SETTLE_LIMIT):
            await scenario.daemon.halt()
        await scenario.settle()
        state = await scenario.venue.state()
        assert working_at_venue(state, "AAPL") == [("sell", "limit"), ("sell", "stop")]
        assert working_at_venue(state, "MSFT") == []
        assert scenario.order(entry).state.value == "canceled"
        [asked] = [
            r
            for r in scenario.seen
            if isinstance(r, OrderStateRecorded)
            and r.client_order_id == entry
            and r.state == "pending_cancel"
        ]
        assert asked.reason == HALT_CANCEL
        assert not [
            r
            for r in scenario.seen
            if isinstance(r, ProtectionRecorded) and r.phase is ProtectionPhase.ENDED
        ]
        [denied] = await scenario.send(signal("e2", "AMD", "buy", 1))
        assert (denied.reason or "").startswith("risk: halted")
        await scenario.daemon.resume()
        await scenario.settle()
        state = await scenario.venue.state()
        assert working_at_venue(state, "AAPL") == [("sell", "limit"), ("sell", "stop")]
        assert scenario.daemon.positions() == {"AAPL": 10}


async def test_halt_keeps_an_emulated_brackets_take_profit_and_held_stop(tmp_path: Path) -> None:
    """Emulated bracket: after halt the take-profit still works at the venue and the
    executor still holds the stop, which fires when the price falls through it."""
    emulated = ExecutorConfig(brackets="emulated")
    async with daemon_on_sim(tmp_path, executor=emulated) as scenario:
        await bracketed_position(scenario, "b1", "AAPL", exits=1)
        with trio.fail_after(SETTLE_LIMIT):
            await scenario.daemon.halt()
        await scenario.settle()
        state = await scenario.venue.state()
        assert working_at_venue(state, "AAPL") == [("sell", "limit")]
        assert scenario.daemon.executors["AAPL"].protection.holds_stop
        await scenario.daemon.resume()
        await scenario.venue.set_prices({"AAPL": "89"})
        await scenario.until(reached("filled", count=2))
        await scenario.settle()
        assert scenario.daemon.positions() == {}


async def test_a_halt_keeps_the_exits_across_a_restart(tmp_path: Path) -> None:
    """Halted with a bracketed position, then restarted: still halted, both exits still at
    the venue and followed again; resume leaves them in place."""
    journal = str(tmp_path / "journal.sqlite3")
    credentials = load_credentials("paper", {}, None)
    async with running_sim() as endpoints, SimControl(endpoints) as venue:
        await venue.set_prices(PRICES)
        broker = BrokerConfig(
            kind="paper",
            base_url=endpoints.alpaca_url,
            stream_url=endpoints.stream_url,
            data_url=endpoints.data_url,
        )
        config = Config(broker=broker, monitor=FAST)
        async with open_daemon(config, credentials, journal_path=journal) as first:
            with first.journal.watch() as records, trio.fail_after(SETTLE_LIMIT):
                await first.prices.wait_for("AAPL")
                await bracketed_position(Scenario(first, venue, records), "b1", "AAPL", exits=2)
                await first.halt()
                await first.activity.wait_idle()
                await first.journal.flush()
            first.stop()
        async with open_daemon(config, credentials, journal_path=journal) as second:
            with trio.fail_after(SETTLE_LIMIT):
                await second.prices.wait_for("AAPL")
                await second.activity.wait_idle()
            assert second.risk.halted
            assert second.positions() == {"AAPL": 10}
            state = await venue.state()
            assert working_at_venue(state, "AAPL") == [("sell", "limit"), ("sell", "stop")]
            exits = {o.request.order_type.value for o in second.executors["AAPL"].unresolved()}
            assert exits == {"limit", "stop"}
            await second.resume()
            with trio.fail_after(SETTLE_LIMIT):
                await second.activity.wait_idle()
            state = await venue.state()
            assert working_at_venue(state, "AAPL") == [("sell", "limit"), ("sell", "stop")]
            second.stop()


async def test_halt_flatten_closes_each_bracketed_position_as_one_journaled_step(
    tmp_path: Path,
) -> None:
    """Bracketed positions on every symbol: `halt --flatten` ends flat with no order left
    at the venue; each symbol's close is one signal of the halt's, and the journal says it
    canceled that symbol's exits."""
    async with daemon_on_sim(tmp_path) as scenario:
        for n, symbol in enumerate(SYMBOLS):
            await bracketed_position(scenario, f"b{n}", symbol, exits=2)
        with trio.fail_after(SETTLE_LIMIT):
            await scenario.daemon.halt(flatten=True)
        await scenario.settle()
        state = await scenario.venue.state()
        assert [o for o in state["orders"] if o["status"] in OPEN] == []
        assert all(Decimal(p["qty"]) == 0 for p in state["positions"])
        assert scenario.daemon.positions() == {}
        steps = {
            r.signal_id: r
            for r in scenario.seen
            if isinstance(r, SignalRecorded)
            and r.signal_id is not None
            and r.signal_id.startswith("halt-")
        }
        assert {sid.rsplit("-", 1)[1] for sid in steps} == set(SYMBOLS)
        assert {r.source for r in steps.values()} == {"control"}
        for sid in steps:
            symbol = sid.rsplit("-", 1)[1]
            canceled = {
                r.client_order_id
                for r in scenario.seen
                if isinstance(r, OrderStateRecorded)
                and r.symbol == symbol
                and r.state == "pending_cancel"
                and r.reason == f"canceled for close signal {sid}"
            }
            assert len(canceled) == 2, (symbol, canceled)
            ended = [
                r
                for r in scenario.seen
                if isinstance(r, ProtectionRecorded)
                and r.symbol == symbol
                and r.phase is ProtectionPhase.ENDED
            ]
            assert [r.state for r in ended] == [f"dropped by close signal {sid}"]
        await scenario.assert_definitive(orders=len(SYMBOLS) * 2)
