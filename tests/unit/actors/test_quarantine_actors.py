"""The executor's and RiskGuard's loops quarantine the signal whose handling raised: journaled
failed (durably) and its waiting sender acked ``rejected`` before the actor stops."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TYPE_CHECKING, Any, cast

import attrs
import trio

from actors.activity import Activity
from actors.executor.core import SymbolExecutor
from actors.executor.task import ExecutorDeps, _at_stake, run_executor
from actors.ids import client_order_id_for
from actors.messages import Ack, Approved, Denied, ExecuteSignal, RiskRequest, parse_signal
from actors.prices import PriceBook
from actors.records import FailureStage
from actors.risk.core import RiskGuardCore
from actors.risk.limits import RiskLimits
from actors.risk.task import run_risk_guard
from brokers.base import RequestPriority
from daemon.journal.store import Journal, open_journal
from tests.builders import T0, request, unread_replies

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from brokers.base import OrderRequest, VenueOrder


@attrs.define
class SilentVenue:
    """Takes orders and never answers: these tests end before any order would go out."""

    async def submit_order(
        self, req: OrderRequest, *, priority: RequestPriority = RequestPriority.NEW_ORDER
    ) -> VenueOrder:
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    async def get_order_by_client_id(self, client_order_id: str) -> VenueOrder | None:
        await trio.sleep_forever()
        return None


def leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from leaves(inner)
    else:
        yield exc


def execute(line: bytes, reply: Any) -> ExecuteSignal:
    return ExecuteSignal(
        signal=parse_signal(line), reply=reply, received_at=T0, source="test", raw=""
    )


async def run_until_it_raises(
    journal: Journal, feed: Any, risk: trio.MemorySendChannel[Any]
) -> list[BaseException]:
    """Run one AAPL executor, let ``feed(inbox, risk)`` talk to it, return what it raised."""
    inbox_send, inbox = trio.open_memory_channel[Any](8)
    monitor, _watched = trio.open_memory_channel[Any](100)
    deps = ExecutorDeps(SilentVenue(), journal, risk, monitor, Activity())  # type: ignore[arg-type]
    try:
        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                await nursery.start(run_executor, SymbolExecutor("AAPL"), inbox_send, inbox, deps)
                await feed(inbox_send)
                await trio.sleep_forever()
    except BaseException as exc:
        return list(leaves(exc))
    raise AssertionError("the executor never stopped")


async def test_a_signal_the_executor_core_cannot_handle_is_quarantined_before_it_stops(
    tmp_path: Path,
) -> None:
    """A rebalance that reached an executor unexpanded raises in its core: failed (execute)
    with the signal's line, the sender acked rejected, then the error stops the actor."""
    reply, acks = trio.open_memory_channel[Ack](1)
    line = b'{"id":"r1","action":"rebalance","targets":{"AAPL":1}}'
    risk, _asked = trio.open_memory_channel[Any](8)

    async def feed(inbox: trio.MemorySendChannel[Any]) -> None:
        await inbox.send(execute(line, reply))

    async with open_journal(tmp_path / "j.sqlite3") as journal:
        raised = await run_until_it_raises(journal, feed, risk)
        failures = await journal.failed_signals()
    assert [type(e) for e in raised] == [AssertionError]
    assert [(f.signal_id, f.stage, f.error_type) for f in failures] == [
        ("r1", FailureStage.EXECUTE, "AssertionError")
    ]
    assert failures[0].raw is not None
    assert parse_signal(failures[0].raw).id == "r1"
    ack = acks.receive_nowait()
    assert (ack.id, ack.status) == ("r1", "rejected")
    assert "AssertionError" in (ack.reason or "")


async def test_a_risk_answer_that_breaks_the_executor_quarantines_the_signal_it_was_for(
    tmp_path: Path,
) -> None:
    """The signal waits for RiskGuard (its sender too); an approval the core cannot compare
    (a signalling NaN) raises: that signal is failed and its sender acked rejected."""
    reply, acks = trio.open_memory_channel[Ack](1)
    risk, asked = trio.open_memory_channel[Any](8)
    line = b'{"id":"s1","symbol":"AAPL","action":"buy","qty":1}'

    async def feed(inbox: trio.MemorySendChannel[Any]) -> None:
        await inbox.send(execute(line, reply))
        ask: RiskRequest = await asked.receive()
        assert ask.signal_id == "s1"
        cid = ask.request.client_order_id
        await inbox.send(Approved(client_order_id=cid, reserved=D(0), qty=D("sNaN")))

    async with open_journal(tmp_path / "j.sqlite3") as journal:
        raised = await run_until_it_raises(journal, feed, risk)
        failures = await journal.failed_signals()
    assert [type(e).__name__ for e in raised] == ["InvalidOperation"]
    assert [(f.signal_id, f.stage) for f in failures] == [("s1", FailureStage.EXECUTE)]
    assert (acks.receive_nowait().id, "rejected") == ("s1", "rejected")


async def test_a_risk_decision_that_raises_quarantines_the_signal_of_the_order(
    tmp_path: Path,
) -> None:
    """RiskGuard deciding on an order from a malformed request (a position that is not a
    number at all, as only a bug could build it): the signal named by the request is failed
    (risk) before it stops. A bad number from outside is denied instead (the next test)."""
    inbox_send, inbox = trio.open_memory_channel[Any](8)
    answers, _answered = trio.open_memory_channel[Any](8)
    core = RiskGuardCore(RiskLimits(), PriceBook())
    asked = RiskRequest(
        request=request("o-1"),
        position_qty=cast("Any", "not a number"),
        reply=answers,
        signal_id="s9",
    )
    raised: list[BaseException] = []
    async with open_journal(tmp_path / "j.sqlite3") as journal:
        try:
            with trio.fail_after(10):
                async with trio.open_nursery() as nursery:
                    await nursery.start(partial_risk_guard(core, inbox, journal))
                    await inbox_send.send(asked)
                    await trio.sleep_forever()
        except BaseException as exc:
            raised = list(leaves(exc))
        failures = await journal.failed_signals()
    assert [type(e).__name__ for e in raised] == ["TypeError"]
    assert [(f.signal_id, f.stage) for f in failures] == [("s9", FailureStage.RISK)]


async def test_a_risk_decision_on_a_signalling_nan_is_denied_and_quarantines_nothing(
    tmp_path: Path,
) -> None:
    """A position its arithmetic cannot compare (a signalling NaN) is denied bad_number:
    RiskGuard's arithmetic traps decimal errors, and runs on."""
    inbox_send, inbox = trio.open_memory_channel[Any](8)
    answers, answered = trio.open_memory_channel[Any](8)
    core = RiskGuardCore(RiskLimits(), PriceBook())
    asked = RiskRequest(
        request=request("o-1"), position_qty=D("sNaN"), reply=answers, signal_id="s9"
    )
    async with open_journal(tmp_path / "j.sqlite3") as journal, trio.open_nursery() as nursery:
        await nursery.start(partial_risk_guard(core, inbox, journal))
        await inbox_send.send(asked)
        with trio.fail_after(10):
            decision = await answered.receive()
        assert await journal.failed_signals() == []
        nursery.cancel_scope.cancel()
    assert isinstance(decision, Denied)
    assert decision.code == "bad_number"


def partial_risk_guard(
    core: RiskGuardCore, inbox: trio.MemoryReceiveChannel[Any], journal: Journal
) -> Any:
    async def run(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await run_risk_guard(core, inbox, journal=journal, task_status=task_status)

    return run


def test_the_signal_being_worked_is_at_stake_only_until_its_order_may_have_left() -> None:
    """A failure while a signal waits on RiskGuard quarantines it (nothing of it traded);
    once its order is being sent, that order carries it: quarantining it would tell the
    operator to send again what may have traded."""
    core = SymbolExecutor("AAPL")
    line = b'{"id":"w1","symbol":"AAPL","action":"buy","qty":1}'
    core.handle(execute(line, unread_replies()), 0.0, T0)
    assert [s.signal_id for s in _at_stake(core, None)] == ["w1"]
    cid = client_order_id_for("w1", "entry")
    core.handle(Approved(client_order_id=cid, reserved=D(200), qty=D(1)), 0.0, T0)
    assert _at_stake(core, None) == []
