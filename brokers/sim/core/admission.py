"""Admitting an order: checking a ticket (or a PATCH) against the market and building the
order records it becomes (pure; the matching core stores and matches them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import attrs
import msgspec

from brokers.sim.core.checks import check_funds, order_qty
from brokers.sim.core.legs import build_legs, check_legs, parent_prices
from brokers.sim.core.orders import OrderChanges, OrderTicket, SimOrder
from brokers.sim.core.rules import check_order_prices

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime
    from decimal import Decimal

    from brokers.sim.core.assets import SimAsset


class AccountRules(Protocol):
    """What an account checks of an order's prices and funds (cash or margin)."""

    def check_prices(self, ticket: OrderTicket, asset: SimAsset) -> None: ...

    def check_funds(
        self,
        ticket: OrderTicket,
        asset: SimAsset,
        qty: Decimal,
        price: Decimal,
        *,
        position_qty: Decimal,
        open_orders: Sequence[SimOrder],
        buying_power: Decimal,
    ) -> Decimal:
        """Raise VenueRejection, or return what the order holds of ``buying_power``."""
        ...


@attrs.frozen
class CashRules:
    """An equity account's rules: Alpaca's price increments and buying power."""

    def check_prices(self, ticket: OrderTicket, asset: SimAsset) -> None:
        del asset
        check_order_prices(ticket)

    def check_funds(
        self,
        ticket: OrderTicket,
        asset: SimAsset,
        qty: Decimal,
        price: Decimal,
        *,
        position_qty: Decimal,
        open_orders: Sequence[SimOrder],
        buying_power: Decimal,
    ) -> Decimal:
        return check_funds(
            ticket,
            asset,
            qty,
            price,
            position_qty=position_qty,
            open_orders=open_orders,
            buying_power=buying_power,
        )


CASH_RULES = CashRules()


@attrs.frozen
class Market:
    """What an order is checked against: its asset and price, the position, the other open
    orders that hold shares of it, and the buying power left for it."""

    asset: SimAsset
    price: Decimal
    position_qty: Decimal
    open_orders: Sequence[SimOrder]
    buying_power: Decimal
    rules: AccountRules = CASH_RULES


def admit(
    ticket: OrderTicket, cid: str, market: Market, new_id: Callable[[], str], now: datetime
) -> tuple[SimOrder, list[SimOrder]]:
    """The order (``accepted``) and its legs for ``ticket``, or VenueRejection."""
    check_legs(ticket)
    limit_price, stop_price = parent_prices(ticket)
    ticket = msgspec.structs.replace(ticket, limit_price=limit_price, stop_price=stop_price)
    market.rules.check_prices(ticket, market.asset)
    qty, hold = _size_and_hold(ticket, market)
    order = SimOrder(
        id=new_id(),
        client_order_id=cid,
        symbol=market.asset.symbol,
        asset_id=market.asset.id,
        side=ticket.side,
        type=ticket.type,
        time_in_force=ticket.time_in_force,
        qty=qty,
        notional=ticket.notional,
        limit_price=ticket.limit_price,
        stop_price=ticket.stop_price,
        extended_hours=ticket.extended_hours,
        created_at=now,
        updated_at=now,
        status="accepted",
        hold=hold,
        order_class=ticket.order_class,
    )
    legs = build_legs(ticket, order, new_id, now)
    return attrs.evolve(order, legs=tuple(leg.id for leg in legs)), legs


def replacement(
    old: SimOrder,
    changes: OrderChanges,
    cid: str,
    market: Market,
    new_id: Callable[[], str],
    now: datetime,
) -> SimOrder:
    """The order that replaces ``old`` (``accepted``, ``replaces`` naming it), or
    VenueRejection. ``market``'s buying power includes what ``old`` holds."""
    ticket = OrderTicket(
        symbol=old.symbol,
        side=old.side,
        type=old.type,
        time_in_force=changes.time_in_force or old.time_in_force,
        qty=changes.qty if changes.qty is not None else old.qty,
        limit_price=changes.limit_price or old.limit_price,
        stop_price=changes.stop_price or old.stop_price,
        client_order_id=cid,
    )
    market.rules.check_prices(ticket, market.asset)
    qty, hold = _size_and_hold(ticket, market)
    return attrs.evolve(
        old,
        id=new_id(),
        client_order_id=cid,
        time_in_force=ticket.time_in_force,
        qty=qty,
        limit_price=ticket.limit_price,
        stop_price=ticket.stop_price,
        created_at=now,
        updated_at=now,
        status="accepted",
        hold=hold,
        replaces=old.id,
    )


def _size_and_hold(ticket: OrderTicket, market: Market) -> tuple[Decimal, Decimal]:
    qty = order_qty(ticket, market.asset, market.price)
    hold = market.rules.check_funds(
        ticket,
        market.asset,
        qty,
        market.price,
        position_qty=market.position_qty,
        open_orders=list(market.open_orders),
        buying_power=market.buying_power,
    )
    return qty, hold
