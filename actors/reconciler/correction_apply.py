"""Carrying a correction out, once the pure checks allow it (``actors.reconciler.core_corrections``).

- ``adopt_fills``: the venue's record of each order with uncounted fills goes to the
  OrderMonitor as a REST snapshot, which hands it to the order's executor, RiskGuard and
  the Reconciler, exactly as a lookup would;
- ``adopt_position``: the journal records the venue's position;
- ``trade_back``: a ``target`` signal through the router, so the symbol's executor and
  RiskGuard treat it like any other; its id derives from the correction id.

A drift traded outside tradingd while running is first taken into the symbol's executor
(``adopt_outside_fills``), drift record or not: the executor holds what the venue holds, so
a trade-back is sized from the true position without waiting for a restart.

Before anything is done the venue's position is read again: a correction made for a
position that has since moved is ``stale`` and does nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, assert_never

import msgspec
import trio

from actors.ids import is_own_client_order_id
from actors.messages import Ack, Action, AdoptOutsideFill, BadSignal, build_signal
from actors.reconciler.core_corrections import CorrectionBook, why_not_now
from actors.reconciler.core_drift import Remedy, correction_signal_id
from actors.reconciler.venue_view import ZERO, ReconcilerDeps, changed_since, recent_orders
from actors.records import CorrectionRecorded, CorrectionStatus, PositionRecorded
from brokers.base import OrderEvent, OrderUpdate, Position, utc_now
from brokers.errors import BrokerError

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger("tradingd.reconciler")

# The source a trade-back is journaled with.
CORRECTION_SOURCE = "correction"
# How long the Reconciler waits for an executor to take in an outside order's fills.
ADOPT_WAIT = 10.0


class ApprovalResult(msgspec.Struct, frozen=True, kw_only=True):
    correction_id: int
    ok: bool
    status: CorrectionStatus | None = None
    detail: str | None = None
    signal_id: str | None = None


async def approve_correction(
    deps: ReconcilerDeps, book: CorrectionBook, cid: int
) -> ApprovalResult:
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
    done = await apply_correction(deps, book, correction, venue)
    return ApprovalResult(
        correction_id=cid,
        ok=done.status == CorrectionStatus.APPLIED,
        status=done.status,
        detail=done.detail,
        signal_id=done.signal_id,
    )


async def apply_correction(
    deps: ReconcilerDeps,
    book: CorrectionBook,
    correction: CorrectionRecorded,
    venue: Mapping[str, Position],
) -> CorrectionRecorded:
    symbol = correction.symbol
    position = venue.get(symbol)
    venue_qty = position.qty if position else ZERO
    # A symbol without an executor yet would start from the venue's position.
    holding = deps.executors.holdings().get(symbol, venue_qty)
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
                    correction,
                    CorrectionStatus.APPLIED,
                    wall,
                    "the journal records the venue's position",
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
        recent = changed_since(await recent_orders(deps.broker), deps.started_at)
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
        return book.settle(
            correction, CorrectionStatus.QUEUED, wall, f"venue unavailable, try again: {exc}"
        )
    if not behind:
        return book.settle(
            correction, CorrectionStatus.STALE, wall, "every fill is counted now; nothing done"
        )
    names = ", ".join(o.client_order_id for o in behind)
    return book.settle(
        correction, CorrectionStatus.APPLIED, wall, f"venue's fills handed over: {names}"
    )


async def _trade_back(
    deps: ReconcilerDeps, book: CorrectionBook, correction: CorrectionRecorded
) -> CorrectionRecorded:
    signal_id = correction_signal_id(correction.correction_id)
    try:
        signal = build_signal(
            id=signal_id,
            action=Action.TARGET,
            symbol=correction.symbol,
            target_qty=correction.target_qty,
            strategy="reconcile",
        )
    except BadSignal as exc:
        ack = Ack(id=signal_id, status="rejected", reason=str(exc))
    else:
        ack = await deps.intake.submit_signal(signal, CORRECTION_SOURCE)
    wall = utc_now()
    detail = f"target {correction.target_qty} sent as signal {signal_id}"
    match ack.status:
        case "rejected":
            return book.settle(correction, CorrectionStatus.FAILED, wall, ack.reason, signal_id)
        case "duplicate":
            detail = f"signal {signal_id} was sent before; not sent again"
        case "accepted":
            if ack.reason:
                detail = f"{detail}: {ack.reason}"
        case _:
            assert_never(ack.status)
    return book.settle(correction, CorrectionStatus.APPLIED, wall, detail, signal_id)


async def adopt_outside_fills(deps: ReconcilerDeps, symbol: str) -> None:
    """Hand the symbol's executor the venue's outside orders changed since startup; return
    once it has journaled what it took (it counts each order's fills only once)."""
    inbox = deps.executors.inbox(symbol)
    if inbox is None:
        return
    try:
        recent = changed_since(await recent_orders(deps.broker), deps.started_at)
    except BrokerError as exc:
        log.warning("%s: outside fills not taken in now: %s", symbol, exc)
        return
    outside = [
        o
        for o in recent
        if o.symbol == symbol and o.filled_qty and not is_own_client_order_id(o.client_order_id)
    ]
    for order in outside:
        send, receive = trio.open_memory_channel[Ack](1)
        ack: Ack | None = None
        # Bounded: a busy executor must not hold up every other symbol's drift checks. If it
        # does not answer in time it still takes the fill in; a correction meanwhile waits,
        # queued, for an executor holding the venue's quantity.
        with trio.move_on_after(ADOPT_WAIT):
            async with receive:
                await inbox.send(AdoptOutsideFill(order=order, reply=send))
                ack = await receive.receive()
        if ack is None:
            log.warning(
                "%s: executor busy: outside order %s not taken in yet",
                symbol,
                order.client_order_id or order.venue_order_id,
            )
        elif ack.status == "accepted":
            log.warning("%s: %s: %s", symbol, ack.id, ack.reason)
