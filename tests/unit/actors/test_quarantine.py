"""Quarantine around signal handlers: a handler that raises leaves its signal journaled
failed (durably, before the error goes on) and its waiting sender acked ``rejected``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import trio

from actors.messages import Ack, RouterInput, Signal, parse_signal
from actors.quarantine import (
    AtStake,
    failure_ack,
    implicated_id,
    quarantined_await,
    quarantined_call,
)
from actors.records import FailureStage, SignalFailed
from actors.router.core import SignalRouterCore
from actors.router.task import Arrival, Intake, run_signal_router
from actors.signal_bounds import ERROR_CHARS
from brokers.errors import BrokerUnavailable
from daemon.journal.store import Journal, open_journal

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


class Poison(Exception):
    """What a handler with a bug raises."""


def leaves(exc: BaseException) -> Iterator[BaseException]:
    """The exceptions inside (nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from leaves(inner)
    else:
        yield exc


async def test_a_handler_that_raises_is_journaled_failed_before_the_error_leaves(
    tmp_path: Path,
) -> None:
    """The failure is readable from the journal while the exception is still on its way out,
    and the sender still waiting hears ``rejected`` with the error's type and message."""
    reply, acks = trio.open_memory_channel[Ack](1)
    stake = [AtStake("s1", reply, '{"id":"s1","symbol":"AAPL","action":"buy","qty":1}')]

    def handler() -> int:
        raise Poison("the value broke the core")

    async with open_journal(tmp_path / "j.sqlite3") as journal:
        raised: BaseException | None = None
        try:
            await quarantined_call(handler, journal, FailureStage.EXECUTE, stake)
        except Poison as exc:
            at_the_raise = await journal.failed_signals()
            raised = exc
        assert isinstance(raised, Poison)
        spent = await journal.accepted_signal_ids()
    assert [(f.signal_id, f.stage, f.error_type) for f in at_the_raise] == [
        ("s1", FailureStage.EXECUTE, "Poison")
    ]
    assert at_the_raise[0].error == "the value broke the core"
    assert at_the_raise[0].raw == stake[0].raw
    assert spent == {"s1"}
    ack = acks.receive_nowait()
    assert (ack.id, ack.status) == ("s1", "rejected")
    assert ack.reason is not None
    assert "Poison: the value broke the core" in ack.reason
    assert "new id" in ack.reason


async def test_a_handler_that_returns_quarantines_nothing(tmp_path: Path) -> None:
    """The wrapper hands the result back and journals nothing."""
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        result = await quarantined_call(lambda: 7, journal, FailureStage.ROUTE, [AtStake("ok")])
        assert result == 7
        assert await journal.failed_signals() == []


async def test_trouble_from_the_world_is_not_the_signals_fault(tmp_path: Path) -> None:
    """A venue or journal error goes on unchanged and quarantines nothing."""

    async def handler() -> None:
        raise BrokerUnavailable("venue down", request_may_have_arrived=False)

    async with open_journal(tmp_path / "j.sqlite3") as journal:
        with pytest.raises(BrokerUnavailable):
            await quarantined_await(handler, journal, FailureStage.REBALANCE, [AtStake("r1")])
        assert await journal.failed_signals() == []


async def test_a_huge_error_message_is_journaled_bounded(tmp_path: Path) -> None:
    """An exception carrying a whole input line keeps a bounded message in the journal."""

    def handler() -> None:
        raise Poison("x" * 100_000)

    async with open_journal(tmp_path / "j.sqlite3") as journal:
        with pytest.raises(Poison):
            await quarantined_call(handler, journal, FailureStage.PARSE, [AtStake("big")])
        (row,) = await journal.failed_signals()
    assert len(row.error) == ERROR_CHARS
    reason = failure_ack("big", Poison("y" * 100_000)).reason
    assert reason is not None
    assert len(reason) < 2 * ERROR_CHARS


def test_the_id_of_a_line_is_found_whatever_else_is_wrong_with_it() -> None:
    """A usable string id is read from any JSON object; anything else has none."""
    assert implicated_id(b'{"id":"a1","qty":"nonsense"}') == "a1"
    assert implicated_id(b'{"id":7}') is None
    assert implicated_id(b"\xff not json") is None
    assert implicated_id(b"[1, 2]") is None
    assert implicated_id(b'{"id":"deep","qty":' + b"[" * 5000 + b"]" * 5000 + b"}") is None


# --- the router: live failures stop it, replayed ones do not ---------------------------


async def no_executor(symbol: str) -> trio.MemorySendChannel[Any]:
    raise AssertionError(f"no executor expected, asked for {symbol}")


async def router_failure(
    journal: Journal, core: SignalRouterCore, line: bytes, **router: Any
) -> tuple[Ack, list[BaseException]]:
    """Run the router, send it one line, and return its ack and what the router raised."""
    inbox_send, inbox = trio.open_memory_channel[RouterInput](8)
    reply, acks = trio.open_memory_channel[Ack](1)
    raised: list[BaseException] = []
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(
                run_signal_router, core, inbox, journal, no_executor, (), *router.values()
            )
            await Intake(inbox_send).send(line, "test", reply)
            with trio.fail_after(5):
                await trio.sleep_forever()
    except BaseException as exc:
        raised = list(leaves(exc))
    return acks.receive_nowait(), raised


async def test_a_bad_line_is_rejected_and_quarantines_nothing(tmp_path: Path) -> None:
    """A line that is not a valid signal is answered rejected, and the router runs on: a
    bad line is the sender's mistake, not a failure of its handling."""
    inbox_send, inbox = trio.open_memory_channel[RouterInput](8)
    async with open_journal(tmp_path / "j.sqlite3") as journal, trio.open_nursery() as nursery:
        await nursery.start(run_signal_router, SignalRouterCore(), inbox, journal, no_executor)
        for line in (b'{"id":"b1","symbol":"AAPL","action":"buy"}', b"[" * 5000 + b"]" * 5000):
            ack = await Intake(inbox_send).submit(line, "test")
            assert ack.status == "rejected"
        assert await journal.failed_signals() == []
        nursery.cancel_scope.cancel()


async def test_a_line_whose_parsing_raises_is_quarantined_and_acked_before_the_router_stops(
    tmp_path: Path,
) -> None:
    """The sizing policy's lookup raises while the line is parsed: failed (parse), acked
    rejected, and the router's error is that one."""

    def sizing_breaks() -> bool:
        raise Poison("sizing policy unreadable")

    core = SignalRouterCore(sized_entries=sizing_breaks)
    line = b'{"id":"p1","symbol":"AAPL","action":"buy","qty":1}'
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        ack, raised = await router_failure(journal, core, line)
        failures = await journal.failed_signals()
    assert [type(e) for e in raised] == [Poison]
    assert (ack.id, ack.status) == ("p1", "rejected")
    assert [(f.signal_id, f.stage, f.raw) for f in failures] == [
        ("p1", FailureStage.PARSE, line.decode())
    ]


async def test_a_rebalance_whose_planning_raises_is_quarantined_and_acked(
    tmp_path: Path,
) -> None:
    """Live: the rebalance's planning raises: failed (rebalance), acked rejected, re-raised."""

    async def planning_breaks(signal: Signal, msg: Arrival | None) -> None:
        raise Poison(f"cannot plan {signal.id}")

    line = b'{"id":"r1","action":"rebalance","targets":{"AAPL":0.5}}'
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        ack, raised = await router_failure(
            journal, SignalRouterCore(), line, run_rebalance=planning_breaks
        )
        failures = await journal.failed_signals()
    assert [type(e) for e in raised] == [Poison]
    assert (ack.id, ack.status) == ("r1", "rejected")
    assert [(f.signal_id, f.stage) for f in failures] == [("r1", FailureStage.REBALANCE)]


async def test_a_replayed_rebalance_that_raises_is_quarantined_and_the_router_runs_on(
    tmp_path: Path,
) -> None:
    """At startup the failure is contained: quarantined (replay), and new lines are served."""

    async def planning_breaks(signal: Signal, msg: Arrival | None) -> None:
        raise Poison(f"cannot plan {signal.id}")

    replayed = parse_signal(b'{"id":"r0","action":"rebalance","targets":{"AAPL":0.5}}')
    core = SignalRouterCore(tradable=frozenset({"AAPL"}))
    inbox_send, inbox = trio.open_memory_channel[RouterInput](8)
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        with journal.watch() as watch, trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                await nursery.start(
                    run_signal_router,
                    core,
                    inbox,
                    journal,
                    no_executor,
                    (),
                    planning_breaks,
                    [replayed],
                )
                async for record in watch:
                    if isinstance(record, SignalFailed):
                        break
                ack = await Intake(inbox_send).submit(
                    b'{"id":"n1","symbol":"NOPE","action":"close"}', "test"
                )
                nursery.cancel_scope.cancel()
        failures = await journal.failed_signals()
    assert (ack.id, ack.status) == ("n1", "rejected")
    assert [(f.signal_id, f.stage, f.error_type) for f in failures] == [
        ("r0", FailureStage.REPLAY, "Poison")
    ]
