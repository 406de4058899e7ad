"""The executor's loop never waits on RiskGuard's or OrderMonitor's inbox: they wait on its
inbox to answer it, so two full inboxes would stop both for good."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TYPE_CHECKING, Any

import attrs
import trio
import trio.testing

from actors.activity import Activity
from actors.executor.core import SymbolExecutor
from actors.executor.task import ExecutorDeps, run_executor
from actors.messages import Ack, ExecuteSignal, ResendIntent, RiskRequest, parse_signal
from actors.prices import PriceBook
from actors.risk.core import RiskGuardCore
from actors.risk.limits import RiskLimits
from actors.risk.task import run_risk_guard
from brokers.base import RequestPriority
from tests.builders import T0, request
from tests.journal_fake import MemoryJournal

if TYPE_CHECKING:
    from brokers.base import OrderRequest, VenueOrder


@attrs.define
class SilentVenue:
    """Takes orders and never answers: the test is about the actors' inboxes only."""

    submitted: list[str] = attrs.field(factory=list)

    async def submit_order(
        self, req: OrderRequest, *, priority: RequestPriority = RequestPriority.NEW_ORDER
    ) -> VenueOrder:
        self.submitted.append(req.client_order_id)
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    async def get_order_by_client_id(self, client_order_id: str) -> VenueOrder | None:
        await trio.sleep_forever()
        return None


def buy(sid: str, reply: Any) -> ExecuteSignal:
    line = f'{{"id":"{sid}","symbol":"AAPL","action":"buy","qty":1}}'
    return ExecuteSignal(
        signal=parse_signal(line), reply=reply, received_at=T0, source="test", raw=""
    )


async def test_full_inboxes_on_both_sides_do_not_stop_the_executor(
    autojump_clock: trio.testing.MockClock,
) -> None:
    risk_send, risk_recv = trio.open_memory_channel[Any](1)
    monitor_send, monitor_recv = trio.open_memory_channel[Any](100)
    inbox_send, inbox_recv = trio.open_memory_channel[Any](1)
    # Where RiskGuard answers another symbol, not read yet: RiskGuard waits there.
    elsewhere_send, elsewhere_recv = trio.open_memory_channel[Any](0)
    acks_send, acks_recv = trio.open_memory_channel[Ack](10)
    venue = SilentVenue()
    deps = ExecutorDeps(venue, MemoryJournal(), risk_send, monitor_send, Activity())  # type: ignore[arg-type]
    core = RiskGuardCore(RiskLimits(), PriceBook())
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await nursery.start(run_risk_guard, core, risk_recv)
            await nursery.start(run_executor, SymbolExecutor("AAPL"), inbox_send, inbox_recv, deps)
            # RiskGuard busy answering another symbol, its inbox full behind that: an answer
            # for this executor (an order of its, say) ...
            await risk_send.send(
                RiskRequest(request=request("o-1"), position_qty=D(0), reply=elsewhere_send)
            )
            await trio.testing.wait_all_tasks_blocked()
            await risk_send.send(
                RiskRequest(request=request("o-2"), position_qty=D(0), reply=inbox_send)
            )
            # Another symbol waits to ask too, first in line.
            others_send, _others_recv = trio.open_memory_channel[Any](10)
            other = RiskRequest(request=request("o-3"), position_qty=D(0), reply=others_send)
            nursery.start_soon(risk_send.send, other)
            await trio.testing.wait_all_tasks_blocked()
            # ... while the executor has its own request to make, and a burst behind it.
            await inbox_send.send(buy("s-1", acks_send))
            await trio.testing.wait_all_tasks_blocked()
            await inbox_send.send(buy("s-2", acks_send))
            await trio.testing.wait_all_tasks_blocked()
            # RiskGuard moves on: it answers into the executor's inbox, which must drain.
            await elsewhere_recv.receive()
            first = await acks_recv.receive()
            second = await acks_recv.receive()
            by_id = {first.id: first, second.id: second}
            assert by_id["s-2"].reason == "queued behind an earlier signal"
            # s-1's request reached RiskGuard and its answer came back (no account is known
            # here, so the answer is no).
            assert (by_id["s-1"].reason or "").startswith("risk: account_unknown")
            nursery.cancel_scope.cancel()
    monitor_recv.close()


async def test_riskguard_never_waits_on_a_stalled_executors_inbox(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """RiskGuard answers an executor whose loop is stuck and inbox full, then goes on
    answering other symbols at once: the answer waits in a slot of its own."""
    risk_send, risk_recv = trio.open_memory_channel[Any](1)
    monitor_send, monitor_recv = trio.open_memory_channel[Any](100)
    inbox_send, inbox_recv = trio.open_memory_channel[Any](1)
    elsewhere_send, elsewhere_recv = trio.open_memory_channel[Any](0)
    others_send, others_recv = trio.open_memory_channel[Any](10)
    acks_send, acks_recv = trio.open_memory_channel[Ack](10)
    journal = MemoryJournal()
    deps = ExecutorDeps(SilentVenue(), journal, risk_send, monitor_send, Activity())  # type: ignore[arg-type]
    core = RiskGuardCore(RiskLimits(), PriceBook())
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await nursery.start(run_risk_guard, core, risk_recv)
            await nursery.start(run_executor, SymbolExecutor("AAPL"), inbox_send, inbox_recv, deps)
            # RiskGuard busy answering another symbol, so s-1's request waits in its inbox.
            await risk_send.send(
                RiskRequest(request=request("o-1"), position_qty=D(0), reply=elsewhere_send)
            )
            await trio.testing.wait_all_tasks_blocked()
            await inbox_send.send(buy("s-1", acks_send))
            await trio.testing.wait_all_tasks_blocked()
            # The executor's loop stalls on its journal, a signal fills its inbox behind.
            journal.gate = trio.Event()
            await inbox_send.send(ResendIntent(request=request("td-resent")))
            await trio.testing.wait_all_tasks_blocked()
            await inbox_send.send(buy("s-2", acks_send))
            # RiskGuard moves on to s-1's request, then to another symbol's.
            await elsewhere_recv.receive()
            other = RiskRequest(request=request("o-3"), position_qty=D(0), reply=others_send)
            with trio.fail_after(1):
                await risk_send.send(other)
                answer = await others_recv.receive()
            assert answer.client_order_id == "o-3"
            assert acks_recv.statistics().current_buffer_used == 0
            journal.gate.set()
            acks = {ack.id: ack for ack in (await acks_recv.receive(), await acks_recv.receive())}
            assert acks["s-2"].reason == "queued behind an earlier signal"
            assert (acks["s-1"].reason or "").startswith("risk: account_unknown")
            nursery.cancel_scope.cancel()
    monitor_recv.close()
