"""The Reconciler's venue work: one drift check (every executor's position against the
venue's, each new drift explained, recorded and handled per mode) and the startup drifts'
record. Decisions are pure (``actors.reconciler.core_drift``, ``core_corrections``,
``DriftWatch``); this reads the venue, journals what it finds, and hands corrections to
``actors.reconciler.correction_apply``. Only the Reconciler's REST worker runs it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
import msgspec

from actors.reconciler.core import Drift, DriftWatch, compare_positions
from actors.reconciler.core_drift import Cause, Explanation, explain, notional_of
from actors.reconciler.core_in_flight import in_flight
from actors.reconciler.core_order_diff import OrderDifference, compare_orders
from actors.reconciler.correction_apply import adopt_outside_fills, apply_correction
from actors.reconciler.venue_view import ZERO, ReconcilerDeps, changed_since, recent_orders
from actors.records import CorrectionStatus
from brokers.base import Position, VenueOrder, utc_now
from brokers.errors import AuthenticationFailed, BrokerError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from actors.reconciler.core_corrections import CorrectionBook

log = logging.getLogger("tradingd.reconciler")


class ReportRow(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    tradingd_qty: Decimal
    venue_qty: Decimal
    difference: Decimal
    notional: Decimal | None
    # ok | in_flight (fills of working orders explain it) | within_tolerance | suspect
    # (seen once: confirmed on the next check) | drift
    state: str
    cause: str | None = None
    detail: str | None = None
    drift_id: int | None = None
    correction_id: int | None = None
    correction_status: CorrectionStatus | None = None


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


# A start with nothing to record (a test's, or a journal that agrees with the venue).
NO_STARTUP_DRIFTS = StartupDrifts()


async def record_startup(
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


async def check(
    deps: ReconcilerDeps, watch: DriftWatch, book: CorrectionBook, found_by: str
) -> ReconciliationReport:
    """One comparison of every executor's position with the venue's."""
    wall = utc_now()
    # The executors' side both before and after the venue's read: a fill landing while it
    # is answered is in flight, not drift (``core_in_flight``).
    ours_before, working_before = deps.executors.holdings(), deps.executors.working_orders()
    try:
        venue = {p.symbol: p for p in await deps.broker.list_positions()}
    except AuthenticationFailed:
        raise  # refused keys are the operator's to fix: never waited out
    except BrokerError as exc:
        log.warning("drift check skipped: %s", exc)
        return ReconciliationReport(at=wall, mode=book.mode, rows=[], error=str(exc))
    deps.view.positions = venue
    ours = deps.executors.holdings()
    prices = _venue_prices(venue)
    for symbol in ours.keys() - prices.keys():
        price = deps.prices.fresh_price(symbol)
        if price is not None:
            prices[symbol] = price
    flights = in_flight(ours_before, ours, [*working_before, *deps.executors.working_orders()])
    new = watch.judge(ours, venue, prices, flights)
    differing = compare_positions(ours, {s: p.qty for s, p in venue.items()})
    # A periodic check explains only what it records; the operator's command explains all,
    # and compares the orders too.
    command = found_by == "command"
    to_explain = differing if command else new
    orders: list[OrderDifference] = []
    recent: list[VenueOrder] | None = None
    if command:
        live = deps.executors.live_orders()
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
    elif watch.in_flight(symbol):
        state = "in_flight"
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
