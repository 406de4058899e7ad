"""What the router hands on of a signal's arrival: its source and the line as received."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from actors.messages import (
    Ack,
    Action,
    BadSignal,
    ExecuteSignal,
    RouterInput,
    build_signal,
)
from actors.records import SignalRecorded
from actors.router import Intake, SignalRouterCore, run_signal_router, start_signal_router
from tests.journal_fake import MemoryJournal


async def test_a_line_and_a_produced_signal_reach_the_executor_with_their_sources() -> None:
    """A line keeps its own text and source; a produced signal goes on unparsed, as the very
    object it was, with the source that made it."""
    inbox_send, inbox = trio.open_memory_channel[RouterInput](8)
    executor_send, executor_inbox = trio.open_memory_channel[ExecuteSignal](8)

    async def spawn(symbol: str) -> trio.MemorySendChannel[ExecuteSignal]:
        return executor_send

    line = b'{"id":"s1", "symbol":"AAPL", "action":"buy", "qty":1}'
    produced = build_signal(id="s2", symbol="AAPL", action=Action.TARGET, target_qty=Decimal(3))
    intake = Intake(inbox_send)
    async with trio.open_nursery() as nursery:
        await nursery.start(run_signal_router, SignalRouterCore(), inbox, MemoryJournal(), spawn)
        reply, _answers = trio.open_memory_channel[Ack](2)
        await intake.send(line, "tcp:1", reply)
        nursery.start_soon(intake.submit_signal, produced, "correction")
        first = await executor_inbox.receive()
        second = await executor_inbox.receive()
        nursery.cancel_scope.cancel()
    assert (first.signal.id, first.source, first.raw) == ("s1", "tcp:1", line.decode())
    assert (second.signal, second.source) == (produced, "correction")
    assert second.signal is produced


async def test_a_rejected_produced_signal_is_journaled_with_its_source() -> None:
    """A produced signal the router refuses (an unknown symbol) is journaled under the source
    that made it, its line the signal as encoded."""
    inbox_send, inbox = trio.open_memory_channel[RouterInput](8)
    journal = MemoryJournal()

    async def no_executor(symbol: str) -> trio.MemorySendChannel[ExecuteSignal]:
        raise AssertionError(f"no executor expected, asked for {symbol}")

    core = SignalRouterCore(tradable=frozenset({"AAPL"}))
    close = build_signal(id="halt-1-ZZZ", symbol="ZZZ", action=Action.CLOSE)
    async with trio.open_nursery() as nursery:
        await nursery.start(run_signal_router, core, inbox, journal, no_executor)
        ack = await Intake(inbox_send).submit_signal(close, "control")
        nursery.cancel_scope.cancel()
    assert ack.status == "rejected"
    [record] = [r for r in journal.records if isinstance(r, SignalRecorded)]
    assert (record.signal_id, record.source, record.status) == ("halt-1-ZZZ", "control", "rejected")
    assert '"id":"halt-1-ZZZ"' in record.raw


def test_a_produced_signal_out_of_bounds_is_refused_like_a_line() -> None:
    """tradingd's own signals meet the bounds a line does: out of them is a BadSignal."""
    with pytest.raises(BadSignal, match="target_qty") as refused:
        build_signal(id="c1", symbol="AAPL", action=Action.TARGET, target_qty=Decimal("1e30"))
    assert refused.value.signal_id == "c1"


async def test_the_router_handle_tells_which_ids_are_taken() -> None:
    """The handle start_signal_router returns answers for the running router: an id is taken
    once its signal was routed, and the tradable symbols are the ones it was given."""
    inbox_send, inbox = trio.open_memory_channel[RouterInput](8)
    executor_send, executor_inbox = trio.open_memory_channel[ExecuteSignal](8)

    async def spawn(symbol: str) -> trio.MemorySendChannel[ExecuteSignal]:
        return executor_send

    intake = Intake(inbox_send)
    core = SignalRouterCore(tradable=frozenset({"AAPL"}))
    async with trio.open_nursery() as nursery:
        handle = await start_signal_router(nursery, core, inbox, intake, MemoryJournal(), spawn)
        assert handle.intake is intake
        assert not handle.has_seen("h1")
        reply, _acks = trio.open_memory_channel[Ack](1)
        await intake.send(b'{"id":"h1","symbol":"AAPL","action":"buy","qty":1}', "test", reply)
        routed = await executor_inbox.receive()
        assert routed.signal.id == "h1"
        assert handle.has_seen("h1")
        assert handle.tradable == frozenset({"AAPL"})
        nursery.cancel_scope.cancel()
