"""The startup gate: the venue's reads, the catch-up with what it did while tradingd was
down, and what the journal restores (risk state, queued corrections, flips between legs).

Nothing is accepted before this has passed. Drift at startup is judged only after the
catch-up: a fill the journal missed while down, recorded now, is no drift.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING

import attrs
import trio

from actors.messages import BadSignal, parse_signal
from actors.reconciler import (
    RESEND_WINDOW,
    Drift,
    PendingFlip,
    PendingIntent,
    StartupState,
    compare_positions,
    load_startup_state,
)
from actors.records import CorrectionRecorded, CorrectionStatus
from actors.risk import RiskGuardCore, read_clock
from brokers.base import Broker, VenueOrder, utc_now
from brokers.errors import AuthenticationFailed
from daemon.startup.catchup import missed_fill_records, orders_the_journal_lacks

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime
    from decimal import Decimal

    from daemon.journal.reconciliation import CorrectionRow
    from daemon.journal.store import Journal, PositionRow

log = logging.getLogger("tradingd")


@attrs.frozen
class GatePassed:
    """What the gate learned, for the actors started after it."""

    startup: StartupState
    started_at: datetime
    # The journal's positions after the catch-up (flat ones included).
    journal_rows: dict[str, PositionRow]
    # Orders of ours the journal lacked that are already final: their executors remember
    # them, so a late update for one is no stranger.
    finished_unknown: dict[str, list[VenueOrder]]

    @property
    def realized(self) -> dict[str, Decimal]:
        """Realized P&L is ours to keep (the venue reports none per position)."""
        return {s: p.realized_pnl for s, p in self.journal_rows.items()}


async def pass_startup_gate(journal: Journal, broker: Broker) -> GatePassed:
    """Everything the actors start from. ``broker``'s reads should wait out the venue's
    trouble (``actors.patient_reads``): a failure here raises, and refused credentials raise
    ``AuthenticationFailed`` itself, not wrapped in a group."""
    with authentication_failure_unwrapped():
        return await _pass_startup_gate(journal, broker)


@contextmanager
def authentication_failure_unwrapped() -> Iterator[None]:
    """The side-by-side reads fail in a group; refused credentials are one fact, raised
    alone so the command line can name it."""
    try:
        yield
    except BaseExceptionGroup as group:
        refused, rest = group.split(AuthenticationFailed)
        if refused is None or rest is not None:
            raise
        first: BaseException = refused
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from group


async def _pass_startup_gate(journal: Journal, broker: Broker) -> GatePassed:
    journal_positions = {s: p.qty for s, p in (await journal.positions()).items()}
    intents = [
        PendingIntent(request=row.request, created_at=row.created_at)
        for row in await journal.unresolved_intents()
    ]
    started_at = utc_now()
    unfinished = await journal.unresolved_orders()
    last_record_at = await journal.last_record_at()
    flips = await _pending_flips(journal, started_at - RESEND_WINDOW)
    # What became of the last run's unfinished orders, as the venue tells it, the orders
    # it sent whose intents never became durable, and the fills the journal never saw.
    # The two reads are independent: side by side.
    unknown: list[VenueOrder] = []

    async def read_unknown() -> None:
        unknown.extend(await orders_the_journal_lacks(broker, journal, last_record_at))

    async with trio.open_nursery() as reads:
        reads.start_soon(read_unknown)
        startup = await load_startup_state(broker, journal_positions, intents, flips)
    caught_up = await missed_fill_records(journal, unfinished, unknown, startup)
    if startup.intents.records or caught_up:
        # Each state first: a refusal's row is the order's own.
        refusals = startup.intents.refusals
        await journal.commit(*startup.intents.records, *refusals, *caught_up)
    journal_rows = await journal.positions()
    startup = attrs.evolve(startup, drifts=tuple(drifts_after_catch_up(journal_rows, startup)))
    log.info(
        "startup gate: %d positions, buying power %s, %d tradable symbols, %d drifts",
        len(startup.positions),
        startup.account.buying_power,
        len(startup.tradable),
        len(startup.drifts),
    )
    finished_unknown: dict[str, list[VenueOrder]] = {}
    for order in unknown:
        if order.status.is_final:
            finished_unknown.setdefault(order.symbol, []).append(order)
    return GatePassed(startup, started_at, journal_rows, finished_unknown)


def drifts_after_catch_up(
    journal_rows: dict[str, PositionRow], startup: StartupState
) -> list[Drift]:
    """The journal's positions, fills caught up, against the venue's: what is left is drift."""
    drifts = compare_positions(
        {s: p.qty for s, p in journal_rows.items()},
        {s: p.qty for s, p in startup.positions.items()},
    )
    for drift in drifts:
        log.warning("drift at startup: %s", drift.describe())
    return drifts


async def _pending_flips(journal: Journal, since: datetime) -> list[PendingFlip]:
    """Orders across zero the last run left between their legs."""
    flips = []
    for row in await journal.flat_legs_without_open(since):
        try:
            signal = parse_signal(row.signal_raw, sized_entries=True)
        except BadSignal as exc:
            log.warning("order across zero %s not resumed: %s", row.request.client_order_id, exc)
            continue
        flips.append(PendingFlip(signal=signal, request=row.request, created_at=row.created_at))
    return flips


async def restore_risk_state(risk: RiskGuardCore, journal: Journal, broker: Broker) -> None:
    """The halt, the daily-loss latch and the runaway breaker outlive a restart, until
    ``tradingd resume``."""
    state = await journal.risk_state()
    if state is not None:
        risk.restore(state)
        held = [
            *(["halted"] if state.halted else []),
            *([f"daily loss latched {state.latched}"] if state.latched else []),
            *([f"runaway breaker tripped ({state.runaway})"] if state.runaway else []),
        ]
        if held:
            log.warning(
                "risk state from the journal: %s; `tradingd resume` lifts it", ", ".join(held)
            )
    if risk.needs_clock(utc_now()):
        await read_clock(risk, broker)


def queued_correction(row: CorrectionRow) -> CorrectionRecorded:
    """A correction the last run left queued, as the CorrectionBook restores it."""
    return CorrectionRecorded(
        at=row.updated_at,
        correction_id=row.id,
        drift_id=row.drift_id,
        symbol=row.symbol,
        cause=row.cause,
        remedy=row.remedy,
        journal_qty=row.journal_qty,
        venue_qty=row.venue_qty,
        target_qty=row.target_qty,
        notional=row.notional,
        status=CorrectionStatus(row.status),  # read as queued: the book restores only those
        signal_id=row.signal_id,
        detail=row.detail,
    )
