"""The Reconciler's loop: drift checks, drift records, corrections, operator commands.

Decisions are pure (``actors.reconciler.core_drift``, ``actors.reconciler.core_corrections``, ``DriftWatch``); this loop reads
the venue, journals what it finds, and hands corrections to ``actors.reconciler.correction_apply``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, assert_never

import attrs
import msgspec
import trio

from actors.executor.core import is_own_client_order_id
from actors.messages import Message
from actors.reconciler.core import Drift, DriftWatch, compare_positions
from actors.reconciler.core_corrections import CorrectionBook
from actors.reconciler.core_drift import Cause, Explanation, explain, notional_of
from actors.reconciler.core_order_diff import OrderDifference, compare_orders
from actors.reconciler.correction_apply import (
    adopt_outside_fills,
    apply_correction,
    approve_correction,
)
from actors.reconciler.venue_view import ZERO, ReconcilerDeps, changed_since, recent_orders
from brokers.base import OrderUpdate, Position, VenueOrder, utc_now
from brokers.errors import AuthenticationFailed, BrokerError

log = logging.getLogger("tradingd.reconciler")


class RunReconciliation(Message, frozen=True, kw_only=True, tag="run_reconciliation"):
    """The operator asks for a full comparison now (``tradingd reconcile``)."""

    reply: Any  # trio.MemorySendChannel[ReconciliationReport]


class ApproveCorrection(Message, frozen=True, kw_only=True, tag="approve_correction"):
    """The operator approves one queued correction (``tradingd approve ID``)."""

    correction_id: int
    reply: Any  # trio.MemorySendChannel[ApprovalResult]


ReconcilerInput = OrderUpdate | RunReconciliation | ApproveCorrection


class ReportRow(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    tradingd_qty: Decimal
    venue_qty: Decimal
    difference: Decimal
    notional: Decimal | None
    # ok | within_tolerance | suspect (seen once: confirmed on the next check) | drift
    state: str
    cause: str | None = None
    detail: str | None = None
    drift_id: int | None = None
    correction_id: int | None = None
    correction_status: str | None = None


class ReconciliationReport(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    mode: str
    rows: list[ReportRow]
    # Orders tradingd follows and the venue's open ones, where they disagree (command only).
    orders: list[OrderDifference] = msgspec.field(default_factory=list)
    error: str | None = None


@attrs.frozen
class StartupDrifts:
    """What the startup gate found: journal positions the venue disagrees with."""

    drifts: tuple[Drift, ...] = ()
    # The journal's average entry price per symbol: values a phantom the venue cannot price.
    journal_prices: dict[str, Decimal] = attrs.field(factory=dict)
    # A journal that never held a position has no intentions to compare: the account's
    # positions are where tradingd starts, never drift to trade back.
    fresh_journal: bool = False


async def run_reconciler(
    inbox: trio.MemoryReceiveChannel[ReconcilerInput],
    deps: ReconcilerDeps,
    watch: DriftWatch,
    book: CorrectionBook,
    startup: StartupDrifts = StartupDrifts(),
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Reports orders nobody here sent, records drifts, queues and applies corrections."""
    watch.checked(trio.current_time())
    task_status.started()
    if startup.drifts and not startup.fresh_journal:
        await _record_startup(deps, book, watch, startup)
    elif startup.drifts:
        log.info("fresh journal: starting from the venue's %d positions", len(startup.drifts))
    async with inbox:
        while True:
            msg: ReconcilerInput | None = None
            with trio.move_on_at(watch.next_deadline()):
                msg = await inbox.receive()
            now = trio.current_time()
            match msg:
                case None:
                    watch.checked(now)
                    await _check(deps, watch, book, "check")
                case OrderUpdate():
                    if not deps.follows(msg.order.symbol, msg.order.client_order_id):
                        _report_external(msg)
                    watch.on_update(msg, now)
                case RunReconciliation(reply=reply):
                    watch.checked(now)
                    await _answer(reply, await _check(deps, watch, book, "command"))
                case ApproveCorrection(correction_id=cid, reply=reply):
                    await _answer(reply, await approve_correction(deps, book, cid))
                case _:
                    assert_never(msg)


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


async def _record_startup(
    deps: ReconcilerDeps, book: CorrectionBook, watch: DriftWatch, startup: StartupDrifts
) -> None:
    venue = deps.view.positions
    prices = _venue_prices(venue)
    beyond = []
    for drift in startup.drifts:
        price = prices.get(drift.symbol) or startup.journal_prices.get(drift.symbol)
        notional = notional_of(drift.journal_qty, drift.venue_qty, price)
        if notional is not None and notional <= watch.notional_tolerance:
            continue
        beyond.append((drift, notional))
    explanations = await _explain(deps, [d for d, _ in beyond], at_startup=True)
    for drift, notional in beyond:
        await _found(deps, book, drift, notional, explanations[drift.symbol], "startup", venue)


async def _check(
    deps: ReconcilerDeps, watch: DriftWatch, book: CorrectionBook, found_by: str
) -> ReconciliationReport:
    """One comparison of every executor's position with the venue's."""
    wall = utc_now()
    try:
        venue = {p.symbol: p for p in await deps.broker.list_positions()}
    except AuthenticationFailed:
        raise  # refused keys are the operator's to fix: never waited out
    except BrokerError as exc:
        log.warning("drift check skipped: %s", exc)
        return ReconciliationReport(at=wall, mode=book.mode, rows=[], error=str(exc))
    deps.view.positions = venue
    ours = deps.holdings()
    prices = _venue_prices(venue)
    for symbol in ours.keys() - prices.keys():
        price = deps.last_price(symbol)
        if price is not None:
            prices[symbol] = price
    new = watch.judge(ours, venue, prices)
    differing = compare_positions(ours, {s: p.qty for s, p in venue.items()})
    # A periodic check explains only what it records; the operator's command explains all,
    # and compares the orders too.
    command = found_by == "command"
    to_explain = differing if command else new
    orders: list[OrderDifference] = []
    recent: list[VenueOrder] | None = None
    if command:
        live = deps.live_orders()
        try:
            recent = await recent_orders(deps.broker)
            open_orders = await deps.broker.list_orders(status="open")
        except AuthenticationFailed:
            raise  # refused keys are the operator's to fix: never waited out
        except BrokerError as exc:
            log.warning("reconciliation: the venue's orders could not be read: %s", exc)
        else:
            orders = compare_orders(live, [*recent, *open_orders])
    explanations = await _explain(deps, to_explain, recent)
    for drift in new:
        notional = notional_of(drift.journal_qty, drift.venue_qty, prices.get(drift.symbol))
        explanation = explanations[drift.symbol]
        await _found(deps, book, drift, notional, explanation, found_by, venue)
    rows = [
        _row(symbol, ours, venue, prices, watch, explanations.get(symbol), book)
        for symbol in sorted(ours.keys() | venue.keys())
        if ours.get(symbol) or symbol in venue
    ]
    return ReconciliationReport(at=wall, mode=book.mode, rows=rows, orders=orders)


async def _found(
    deps: ReconcilerDeps,
    book: CorrectionBook,
    drift: Drift,
    notional: Decimal | None,
    explanation: Explanation,
    found_by: str,
    venue: Mapping[str, Position],
) -> None:
    found = book.found(
        symbol=drift.symbol,
        journal_qty=drift.journal_qty,
        venue_qty=drift.venue_qty,
        notional=notional,
        explanation=explanation,
        found_by=found_by,
        wall=utc_now(),
    )
    await deps.journal.commit(*found.records)
    correction = found.correction
    log.warning(
        "drift %d (%s): %s: tradingd %s, venue %s: %s: %s%s",
        found.drift.drift_id,
        found_by,
        drift.symbol,
        drift.journal_qty,
        drift.venue_qty,
        explanation.cause,
        explanation.detail,
        f"; correction {correction.correction_id} {correction.remedy}" if correction else "",
    )
    if explanation.cause is Cause.EXTERNAL and found_by != "startup":
        # The executors began from the venue's positions at startup: only what was traded
        # outside since is theirs to take in, so they hold what the venue holds again.
        await adopt_outside_fills(deps, drift.symbol)
    if correction is not None and found.apply_now:
        await apply_correction(deps, book, correction, venue)


async def _explain(
    deps: ReconcilerDeps,
    drifts: Sequence[Drift],
    recent: list[VenueOrder] | None = None,
    *,
    at_startup: bool = False,
) -> dict[str, Explanation]:
    """Each drift's cause, from the venue's recent orders and the fills tradingd counted.

    At startup the journal is compared, so the last day's orders count; while running the
    executors are, and they began from the venue's positions at startup: only orders the
    venue changed since can explain a difference.
    """
    if not drifts:
        return {}
    try:
        if recent is None:
            recent = await recent_orders(deps.broker)
    except AuthenticationFailed:
        raise  # refused keys are the operator's to fix: never waited out
    except BrokerError as exc:
        unknown = Explanation(Cause.UNKNOWN, f"the venue's orders could not be read: {exc}")
        return {d.symbol: unknown for d in drifts}
    symbols = {d.symbol for d in drifts}
    by_symbol: dict[str, list[VenueOrder]] = {}
    for order in changed_since(recent, None if at_startup else deps.started_at):
        if order.symbol in symbols:
            by_symbol.setdefault(order.symbol, []).append(order)
    # Own orders, and outside ones whose fills an executor may have taken in.
    ids = [o.client_order_id or o.venue_order_id for orders in by_symbol.values() for o in orders]
    counted = await deps.journal.filled_by_order(ids)
    return {
        d.symbol: explain(d.journal_qty, d.venue_qty, by_symbol.get(d.symbol, []), counted)
        for d in drifts
    }


def _venue_prices(venue: Mapping[str, Position]) -> dict[str, Decimal]:
    return {s: abs(p.market_value / p.qty) for s, p in venue.items() if p.market_value and p.qty}


def _row(
    symbol: str,
    ours: Mapping[str, Decimal],
    venue: Mapping[str, Position],
    prices: Mapping[str, Decimal],
    watch: DriftWatch,
    explanation: Explanation | None,
    book: CorrectionBook,
) -> ReportRow:
    mine = ours.get(symbol, ZERO)
    position = venue.get(symbol)
    theirs = position.qty if position else ZERO
    if mine == theirs:
        state = "ok"
    elif symbol in watch.reported:
        state = "drift"
    elif symbol in watch.suspects:
        state = "suspect"
    else:
        state = "within_tolerance"
    latest = book.latest(symbol) if state == "drift" else None
    drift, correction = latest or (None, None)
    return ReportRow(
        symbol=symbol,
        tradingd_qty=mine,
        venue_qty=theirs,
        difference=theirs - mine,
        notional=notional_of(mine, theirs, prices.get(symbol)) if mine != theirs else ZERO,
        state=state,
        cause=explanation.cause.value if explanation else None,
        detail=explanation.detail if explanation else None,
        drift_id=drift.drift_id if drift else None,
        correction_id=correction.correction_id if correction else None,
        correction_status=correction.status if correction else None,
    )


def _report_external(update: OrderUpdate) -> None:
    cid = update.order.client_order_id
    if not is_own_client_order_id(cid):
        log.warning(
            "external order %s %s %s %s: %s",
            update.order.symbol,
            update.order.side,
            update.order.qty,
            cid,
            update.event,
        )
