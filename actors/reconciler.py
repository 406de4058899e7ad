"""Reconciler: the daemon's picture of positions must equal the broker's.

At startup (the gate before any signal is accepted) it loads the venue's positions, account
and tradable assets, compares the positions with the journal's, and reports every drift. The
venue is the truth: executors start from the venue's positions, never the journal's.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import attrs
import trio

from actors.executor_core import is_own_client_order_id
from brokers.base import Account, Broker, OrderUpdate, Position

log = logging.getLogger("tradingd.reconciler")

ZERO = Decimal(0)


@attrs.frozen
class Drift:
    symbol: str
    journal_qty: Decimal
    venue_qty: Decimal

    def describe(self) -> str:
        if self.journal_qty == 0:
            cause = "position at the venue the journal does not know (external trade?)"
        elif self.venue_qty == 0:
            cause = "journal position the venue does not have (phantom position)"
        else:
            cause = "quantities differ (missed or external fill?)"
        return f"{self.symbol}: journal {self.journal_qty}, venue {self.venue_qty}: {cause}"


def compare_positions(journal: dict[str, Decimal], venue: dict[str, Decimal]) -> list[Drift]:
    """Every symbol whose quantities differ, in symbol order."""
    drifts = []
    for symbol in sorted(journal.keys() | venue.keys()):
        ours, theirs = journal.get(symbol, ZERO), venue.get(symbol, ZERO)
        if ours != theirs:
            drifts.append(Drift(symbol, ours, theirs))
    return drifts


@attrs.frozen
class StartupState:
    positions: dict[str, Position]
    account: Account
    tradable: frozenset[str]
    drifts: tuple[Drift, ...]


async def load_startup_state(broker: Broker, journal_positions: dict[str, Decimal]) -> StartupState:
    """The startup gate's reads: nothing is accepted until this returns."""
    positions: list[Position] = []
    assets = []
    async with trio.open_nursery() as nursery:
        # Independent reads: run them side by side.
        async def get_positions() -> None:
            positions.extend(await broker.list_positions())

        async def get_assets() -> None:
            assets.extend(await broker.list_assets())

        nursery.start_soon(get_positions)
        nursery.start_soon(get_assets)
        account = await broker.get_account()
    venue = {p.symbol: p for p in positions}
    drifts = compare_positions(journal_positions, {s: p.qty for s, p in venue.items()})
    for drift in drifts:
        log.warning("drift at startup: %s", drift.describe())
    return StartupState(
        positions=venue,
        account=account,
        tradable=frozenset(a.symbol for a in assets if a.tradable),
        drifts=tuple(drifts),
    )


async def run_reconciler(
    inbox: trio.MemoryReceiveChannel[OrderUpdate],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Watches every order update; an order nobody sent is reported as external."""
    task_status.started()
    async with inbox:
        async for update in inbox:
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
