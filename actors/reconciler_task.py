"""The Reconciler's loop: drift checks, drift records, corrections, operator commands.

Decisions are pure (``actors.drift``, ``actors.corrections``, ``DriftWatch``); this loop
reads the venue, journals, and carries corrections out:

- ``adopt_fills``: the venue's record of each order with uncounted fills goes to the
  OrderMonitor as a REST snapshot, which hands it to the order's executor, RiskGuard and
  back here, exactly as a lookup would;
- ``adopt_position``: the journal records the venue's position;
- ``trade_back``: a ``target`` signal through the router, so the symbol's executor and
  RiskGuard treat it like any other; its id derives from the correction id.

Before any correction is applied the venue's position is read again: a correction made for a
position that has since moved is ``stale`` and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, assert_never

import attrs
import msgspec
import trio

from actors.corrections import CorrectionBook, why_not_now
from actors.drift import (
    Cause,
    Explanation,
    Remedy,
    correction_signal_id,
    explain,
    notional_of,
)
from actors.executor_core import is_own_client_order_id
from actors.messages import Message
from actors.order_diff import LiveOrder, OrderDifference, compare_orders
from actors.reconciler import Drift, DriftWatch, compare_positions
from actors.records import CorrectionRecorded, DriftRecorded, JournalRecord, PositionRecorded
from actors.signal_router import Intake
from brokers.base import Broker, OrderEvent, OrderUpdate, Position, VenueOrder, utc_now
from brokers.errors import BrokerError

log = logging.getLogger("tradingd.reconciler")

ZERO = Decimal(0)
# How far back the venue's orders are read to explain a drift.
ORDER_LOOKBACK = timedelta(days=1)


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


class ApprovalResult(msgspec.Struct, frozen=True, kw_only=True):
    correction_id: int
    ok: bool
    status: str | None = None
    detail: str | None = None
    signal_id: str | None = None


class HasRealizedPnl(Protocol):
    @property
    def realized_pnl(self) -> Decimal: ...


class ReconcilerJournal(Protocol):
    async def commit(self, *records: JournalRecord) -> None: ...

    async def filled_by_order(self, client_order_ids: list[str]) -> dict[str, Decimal]: ...

    async def positions(self) -> Mapping[str, HasRealizedPnl]: ...


@attrs.define
class VenueView:
    """The venue's positions as of the Reconciler's latest read (it is the only writer).

    An executor spawned after startup starts from here, not from the startup snapshot, so a
    position opened outside tradingd since then is its starting point.
    """

    positions: dict[str, Position] = attrs.field(factory=dict)

    def qty(self, symbol: str) -> Decimal:
        position = self.positions.get(symbol)
        return position.qty if position else ZERO


@attrs.frozen
class ReconcilerDeps:
    broker: Broker
    journal: ReconcilerJournal
    monitor: trio.MemorySendChannel[Any]  # the OrderMonitor's inbox
    intake: Intake
    holdings: Callable[[], dict[str, Decimal]]  # every executor's position (flat included)
    view: VenueView
    live_orders: Callable[[], list[LiveOrder]] = list  # orders executors still follow


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
                    _report_external(msg)
                    watch.on_update(msg, now)
                case RunReconciliation(reply=reply):
                    watch.checked(now)
                    await _answer(reply, await _check(deps, watch, book, "command"))
                case ApproveCorrection(correction_id=cid, reply=reply):
                    await _answer(reply, await _approve(deps, book, cid))
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
    explanations = await _explain(deps, [d for d, _ in beyond])
    for drift, notional in beyond:
        await _found(deps, book, drift, notional, explanations[drift.symbol], "startup", venue)


async def _check(
    deps: ReconcilerDeps, watch: DriftWatch, book: CorrectionBook, found_by: str
) -> ReconciliationReport:
    """One comparison of every executor's position with the venue's."""
    wall = utc_now()
    try:
        venue = {p.symbol: p for p in await deps.broker.list_positions()}
    except BrokerError as exc:
        log.warning("drift check skipped: %s", exc)
        return ReconciliationReport(at=wall, mode=book.mode, rows=[], error=str(exc))
    deps.view.positions = venue
    ours = deps.holdings()
    prices = _venue_prices(venue)
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
            recent = await _recent_orders(deps.broker)
            open_orders = await deps.broker.list_orders(status="open")
        except BrokerError as exc:
            log.warning("reconciliation: the venue's orders could not be read: %s", exc)
        else:
            orders = compare_orders(live, [*recent, *open_orders])
    explanations = await _explain(deps, to_explain, recent)
    outcomes: dict[str, tuple[DriftRecorded, CorrectionRecorded | None]] = {}
    for drift in new:
        notional = notional_of(drift.journal_qty, drift.venue_qty, prices.get(drift.symbol))
        explanation = explanations[drift.symbol]
        outcomes[drift.symbol] = await _found(
            deps, book, drift, notional, explanation, found_by, venue
        )
    rows = [
        _row(symbol, ours, venue, prices, watch, explanations.get(symbol), outcomes.get(symbol))
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
) -> tuple[DriftRecorded, CorrectionRecorded | None]:
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
    if correction is not None and found.apply_now:
        correction = await _apply(deps, book, correction, venue)
    return found.drift, correction


async def _approve(deps: ReconcilerDeps, book: CorrectionBook, cid: int) -> ApprovalResult:
    correction = book.for_approval(cid)
    if correction is None:
        return ApprovalResult(
            correction_id=cid, ok=False, detail="no queued correction with this id"
        )
    try:
        venue = {p.symbol: p for p in await deps.broker.list_positions()}
    except BrokerError as exc:
        return ApprovalResult(correction_id=cid, ok=False, detail=f"venue unavailable: {exc}")
    deps.view.positions = venue
    log.warning("correction %d approved: %s %s", cid, correction.remedy, correction.symbol)
    done = await _apply(deps, book, correction, venue)
    return ApprovalResult(
        correction_id=cid,
        ok=done.status == "applied",
        status=done.status,
        detail=done.detail,
        signal_id=done.signal_id,
    )


async def _apply(
    deps: ReconcilerDeps,
    book: CorrectionBook,
    correction: CorrectionRecorded,
    venue: Mapping[str, Position],
) -> CorrectionRecorded:
    symbol = correction.symbol
    position = venue.get(symbol)
    venue_qty = position.qty if position else ZERO
    # A symbol without an executor yet would start from the venue's position.
    holding = deps.holdings().get(symbol, venue_qty)
    refusal = why_not_now(correction, venue_qty, holding)
    wall = utc_now()
    if refusal is not None:
        status, reason = refusal
        done = book.settle(correction, status, wall, reason)
    else:
        remedy = Remedy(correction.remedy)
        match remedy:
            case Remedy.ADOPT_FILLS:
                done = await _adopt_fills(deps, book, correction)
            case Remedy.ADOPT_POSITION:
                realized = (await deps.journal.positions()).get(symbol)
                adopted = PositionRecorded(
                    at=wall,
                    symbol=symbol,
                    qty=venue_qty,
                    avg_entry_price=position.avg_entry_price if position else ZERO,
                    realized_pnl=realized.realized_pnl if realized else ZERO,
                )
                await deps.journal.commit(adopted)
                done = book.settle(
                    correction, "applied", wall, "the journal records the venue's position"
                )
            case Remedy.TRADE_BACK:
                done = await _trade_back(deps, book, correction)
            case _:
                assert_never(remedy)
    await deps.journal.commit(done)
    log.warning(
        "correction %d %s %s: %s%s",
        done.correction_id,
        done.remedy,
        symbol,
        done.status,
        f": {done.detail}" if done.detail else "",
    )
    return done


async def _adopt_fills(
    deps: ReconcilerDeps, book: CorrectionBook, correction: CorrectionRecorded
) -> CorrectionRecorded:
    """Feed the venue's record of each order with uncounted fills to its executor."""
    wall = utc_now()
    try:
        recent = await _recent_orders(deps.broker)
        own = [
            o
            for o in recent
            if o.symbol == correction.symbol and is_own_client_order_id(o.client_order_id)
        ]
        counted = await deps.journal.filled_by_order([o.client_order_id for o in own])
        behind = [o for o in own if o.filled_qty > counted.get(o.client_order_id, ZERO)]
        for order in behind:
            fresh = await deps.broker.get_order_by_client_id(order.client_order_id) or order
            await deps.monitor.send(
                OrderUpdate(event=OrderEvent.SNAPSHOT, order=fresh, at=wall, source="rest")
            )
    except BrokerError as exc:
        return book.settle(correction, "queued", wall, f"venue unavailable, try again: {exc}")
    if not behind:
        return book.settle(correction, "stale", wall, "every fill is counted now; nothing done")
    names = ", ".join(o.client_order_id for o in behind)
    return book.settle(correction, "applied", wall, f"venue's fills handed over: {names}")


async def _trade_back(
    deps: ReconcilerDeps, book: CorrectionBook, correction: CorrectionRecorded
) -> CorrectionRecorded:
    signal_id = correction_signal_id(correction.correction_id)
    line = msgspec.json.encode(
        {
            "id": signal_id,
            "action": "target",
            "symbol": correction.symbol,
            "target_qty": str(correction.target_qty),
            "strategy": "reconcile",
        }
    )
    ack = await deps.intake.submit(line, "reconcile")
    wall = utc_now()
    if ack.status == "rejected":
        return book.settle(correction, "failed", wall, ack.reason, signal_id)
    detail = f"target {correction.target_qty} sent as signal {signal_id}"
    if ack.status == "duplicate":
        detail = f"signal {signal_id} was sent before; not sent again"
    elif ack.reason:
        detail = f"{detail}: {ack.reason}"
    return book.settle(correction, "applied", wall, detail, signal_id)


async def _recent_orders(broker: Broker) -> list[VenueOrder]:
    return await broker.list_orders(status="all", after=utc_now() - ORDER_LOOKBACK)


async def _explain(
    deps: ReconcilerDeps, drifts: Sequence[Drift], recent: list[VenueOrder] | None = None
) -> dict[str, Explanation]:
    """Each drift's cause, from the venue's recent orders and the fills tradingd counted."""
    if not drifts:
        return {}
    try:
        if recent is None:
            recent = await _recent_orders(deps.broker)
    except BrokerError as exc:
        unknown = Explanation(Cause.UNKNOWN, f"the venue's orders could not be read: {exc}")
        return {d.symbol: unknown for d in drifts}
    symbols = {d.symbol for d in drifts}
    by_symbol: dict[str, list[VenueOrder]] = {}
    for order in recent:
        if order.symbol in symbols:
            by_symbol.setdefault(order.symbol, []).append(order)
    own = [
        o.client_order_id
        for orders in by_symbol.values()
        for o in orders
        if is_own_client_order_id(o.client_order_id)
    ]
    counted = await deps.journal.filled_by_order(own)
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
    outcome: tuple[DriftRecorded, CorrectionRecorded | None] | None,
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
    drift, correction = outcome if outcome else (None, None)
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
