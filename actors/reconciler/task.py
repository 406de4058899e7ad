"""The Reconciler's loop: drift checks, drift records, corrections, operator commands. Its
inbox loop never waits on the venue: a child task does the REST work, one job at a time
(``actors.reconciler.drift_checks``, ``actors.reconciler.correction_apply``).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any, assert_never

import attrs
import trio

from actors.ids import is_own_client_order_id
from actors.messages import ApproveCorrection, OrderSeen, RunReconciliation
from actors.reconciler.correction_apply import ApprovalResult, approve_correction
from actors.reconciler.drift_checks import (
    NO_STARTUP_DRIFTS,
    ReconciliationReport,
    StartupDrifts,
    check,
    record_startup,
)
from brokers.base import utc_now

if TYPE_CHECKING:
    from collections.abc import Callable

    from actors.reconciler.core import DriftWatch
    from actors.reconciler.core_corrections import CorrectionBook
    from actors.reconciler.venue_view import ReconcilerDeps

log = logging.getLogger("tradingd.reconciler")


ReconcilerInput = OrderSeen | RunReconciliation | ApproveCorrection


# Operator commands waiting for the REST worker, at most: one more is answered "busy" at
# once, so a stuck venue never makes the inbox loop wait.
COMMANDS_QUEUED = 16
INBOX_SIZE = 256


@attrs.define
class _Work:
    """What the inbox loop hands the REST worker: a drift check that is due (however often
    it fell due meanwhile, one check), and the operator's commands in order."""

    check_due: bool = False
    commands: deque[RunReconciliation | ApproveCorrection] = attrs.field(factory=deque)
    _wake: trio.Event = attrs.field(factory=trio.Event)

    def add_check(self) -> None:
        self.check_due = True
        self._wake.set()

    def add_command(self, command: RunReconciliation | ApproveCorrection) -> bool:
        if len(self.commands) >= COMMANDS_QUEUED:
            return False
        self.commands.append(command)
        self._wake.set()
        return True

    async def wait(self) -> None:
        while not self.check_due and not self.commands:
            self._wake = trio.Event()
            await self._wake.wait()


async def run_reconciler(
    inbox: trio.MemoryReceiveChannel[ReconcilerInput],
    deps: ReconcilerDeps,
    watch: DriftWatch,
    book: CorrectionBook,
    startup: StartupDrifts = NO_STARTUP_DRIFTS,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Reports orders nobody here sent, records drifts, queues and applies corrections.

    The inbox loop only decides (the OrderMonitor sends to it for every update, so it must
    never wait on the venue); a child task does every REST read and what follows from it.
    """
    watch.checked(trio.current_time())
    work = _Work()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_do_work, work, deps, watch, book, startup)
        task_status.started()
        await _serve_inbox(inbox, deps, watch, book, work)


async def _serve_inbox(
    inbox: trio.MemoryReceiveChannel[ReconcilerInput],
    deps: ReconcilerDeps,
    watch: DriftWatch,
    book: CorrectionBook,
    work: _Work,
) -> None:
    async with inbox:
        while True:
            msg: ReconcilerInput | None = None
            with trio.move_on_at(watch.next_deadline()):
                msg = await inbox.receive()
            now = trio.current_time()
            match msg:
                case None:
                    # A command's check may have moved the deadline since this wait began.
                    if now >= watch.next_deadline():
                        watch.checked(now)
                        work.add_check()
                case OrderSeen():
                    if not deps.executors.follows(msg.symbol, msg.client_order_id):
                        _report_external(msg)
                    watch.on_update(msg, now)
                case RunReconciliation() | ApproveCorrection():
                    if not work.add_command(msg):
                        _answer_now(msg.reply, _busy(msg, book))
                case _:
                    assert_never(msg)


async def _do_work(
    work: _Work,
    deps: ReconcilerDeps,
    watch: DriftWatch,
    book: CorrectionBook,
    startup: StartupDrifts,
) -> None:
    """The REST worker: the startup drifts first, then each check and command in turn."""
    if startup.drifts and not startup.fresh_journal:
        await record_startup(deps, book, watch, startup)
    elif startup.drifts:
        log.info("fresh journal: starting from the venue's %d positions", len(startup.drifts))
    while True:
        await work.wait()
        if work.check_due:
            work.check_due = False
            await check(deps, watch, book, "check")
            continue
        match work.commands.popleft():
            case RunReconciliation(reply=reply):
                watch.checked(trio.current_time())
                await _answer(reply, await check(deps, watch, book, "command"))
            case ApproveCorrection(correction_id=cid, reply=reply):
                await _answer(reply, await approve_correction(deps, book, cid))


def _busy(
    command: RunReconciliation | ApproveCorrection, book: CorrectionBook
) -> ReconciliationReport | ApprovalResult:
    why = f"the reconciler is busy: {COMMANDS_QUEUED} commands are waiting; try again later"
    match command:
        case RunReconciliation():
            return ReconciliationReport(at=utc_now(), mode=book.mode, rows=[], error=why)
        case ApproveCorrection(correction_id=cid):
            return ApprovalResult(correction_id=cid, ok=False, detail=why)
        case _:
            assert_never(command)


@attrs.frozen
class ReconcilerHandle:
    """The Reconciler as others see it: the inbox the OrderMonitor feeds, and the
    operator's commands, each answered once the venue has been read."""

    inbox: trio.MemorySendChannel[ReconcilerInput]

    async def reconcile(self) -> ReconciliationReport:
        """A full comparison with the venue now; drifts it confirms are handled per mode."""
        report: ReconciliationReport = await ask_reconciler(
            self.inbox, lambda reply: RunReconciliation(reply=reply)
        )
        return report

    async def approve(self, correction_id: int) -> ApprovalResult:
        """Apply one queued correction (a second approval finds it no longer queued)."""
        result: ApprovalResult = await ask_reconciler(
            self.inbox, lambda reply: ApproveCorrection(correction_id=correction_id, reply=reply)
        )
        return result


async def start_reconciler(
    nursery: trio.Nursery,
    deps: ReconcilerDeps,
    watch: DriftWatch,
    book: CorrectionBook,
    startup: StartupDrifts = NO_STARTUP_DRIFTS,
) -> ReconcilerHandle:
    """The Reconciler's task, started in ``nursery``; its handle."""
    send, receive = trio.open_memory_channel[ReconcilerInput](INBOX_SIZE)
    await nursery.start(run_reconciler, receive, deps, watch, book, startup)
    return ReconcilerHandle(send)


async def ask_reconciler(
    inbox: trio.MemorySendChannel[Any], make: Callable[[Any], ReconcilerInput]
) -> Any:
    """Send one command built around a reply channel; return the reply."""
    send, receive = trio.open_memory_channel[Any](1)
    async with receive:
        await inbox.send(make(send))
        return await receive.receive()


async def _answer(reply: trio.MemorySendChannel[Any], answer: object) -> None:
    try:
        await reply.send(answer)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        log.info("reconciler: the asker left before the answer")


def _answer_now(reply: trio.MemorySendChannel[Any], answer: object) -> None:
    """An answer from the inbox loop, which never waits: the reply channel has room."""
    try:
        reply.send_nowait(answer)
    except (trio.BrokenResourceError, trio.ClosedResourceError, trio.WouldBlock):
        log.info("reconciler: the asker left before the answer")


def _report_external(seen: OrderSeen) -> None:
    cid = seen.client_order_id
    if not is_own_client_order_id(cid):
        log.warning(
            "external order %s %s %s %s: %s", seen.symbol, seen.side, seen.qty, cid, seen.event
        )
