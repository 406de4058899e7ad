"""The startup gate's reads of the venue: positions, assets, open orders and the account
side by side, then every unfinished intent looked up by its client id. The decisions on what
they find are pure (``actors.reconciler.core``); this module does the I/O."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import attrs
import trio

from actors.ids import is_own_client_order_id
from actors.reconciler.core import (
    STARTUP_LOOKUPS,
    IntentOutcome,
    PendingFlip,
    PendingIntent,
    StartupState,
    compare_positions,
    decide_intents,
    decide_resumes,
)
from actors.reconciler.open_orders import list_open_orders
from brokers.base import Asset, Broker, Position, VenueOrder, utc_now

if TYPE_CHECKING:
    from collections.abc import Sequence
    from decimal import Decimal

log = logging.getLogger("tradingd.reconciler")


async def load_startup_state(
    broker: Broker,
    journal_positions: dict[str, Decimal],
    intents: Sequence[PendingIntent] = (),
    flips: Sequence[PendingFlip] = (),
) -> StartupState:
    """The startup gate's reads: nothing is accepted until this returns."""
    positions: list[Position] = []
    assets: list[Asset] = []
    orders: list[VenueOrder] = []
    async with trio.open_nursery() as nursery:
        # Independent reads: run them side by side.
        async def get_positions() -> None:
            positions.extend(await broker.list_positions())

        async def get_assets() -> None:
            assets.extend(await broker.list_assets())

        async def get_open_orders() -> None:
            orders.extend(await list_open_orders(broker))

        nursery.start_soon(get_positions)
        nursery.start_soon(get_assets)
        nursery.start_soon(get_open_orders)
        account = await broker.get_account()
    venue = {p.symbol: p for p in positions}
    # Before the catch-up of fills made while down: the startup gate compares again after it.
    drifts = compare_positions(journal_positions, {s: p.qty for s, p in venue.items()})
    adopted = {o.client_order_id for o in orders}
    outcome = await _resolve_intents(
        broker, [i for i in intents if i.request.client_order_id not in adopted]
    )
    orders.extend(outcome.adopt)
    outcome = attrs.evolve(outcome, resume=decide_resumes(flips, utc_now()))
    open_orders: dict[str, list[VenueOrder]] = {}
    for order in orders:
        open_orders.setdefault(order.symbol, []).append(order)
        if not is_own_client_order_id(order.client_order_id):
            log.warning(
                "adopting external open order %s: %s %s %s",
                order.client_order_id,
                order.side,
                order.qty,
                order.symbol,
            )
    return StartupState(
        intents=outcome,
        positions=venue,
        open_orders={s: tuple(o) for s, o in open_orders.items()},
        account=account,
        assets={a.symbol: a for a in assets},
        drifts=tuple(drifts),
    )


async def _resolve_intents(broker: Broker, intents: Sequence[PendingIntent]) -> IntentOutcome:
    """Ask the venue about each unfinished intent by client id; never guess."""
    found: dict[str, VenueOrder | None] = {}
    limiter = trio.CapacityLimiter(STARTUP_LOOKUPS)

    async def look_up(cid: str) -> None:
        async with limiter:
            found[cid] = await broker.get_order_by_client_id(cid)

    async with trio.open_nursery() as nursery:
        for intent in intents:
            nursery.start_soon(look_up, intent.request.client_order_id)
    now = utc_now()
    return decide_intents(intents, found, now)
