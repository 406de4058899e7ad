"""The matching core of the paper venue: orders, fills, positions and the account.

Pure: no I/O and no clock reads; every command takes ``now``. Events for the
``trade_updates`` stream collect in an outbox that the I/O shell drains after each command.
Market orders fill at the venue's current price; limit and stop orders rest until a price
change makes them marketable; every fill is complete (no partial fills).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal

import attrs

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.assets import SimAsset, is_valid_price
from brokers.sim.checks import check_funds, order_qty
from brokers.sim.ledger import AccountFigures, Ledger, SimPosition
from brokers.sim.orders import (
    CLOSED_STATUSES,
    OrderTicket,
    SimEvent,
    SimOrder,
    VenueRejection,
    unprocessable,
)

ZERO = Decimal(0)
NOT_FOUND = 40410000


def _uuid4() -> str:
    return str(uuid.uuid4())


@attrs.define
class MatchingCore:
    """The venue's single account and order book."""

    _assets: dict[str, SimAsset]
    _prices: dict[str, Decimal]
    _ledger: Ledger
    _new_id: Callable[[], str] = _uuid4
    _orders: dict[str, SimOrder] = attrs.field(factory=dict)  # in submission order
    _by_client_id: dict[str, str] = attrs.field(factory=dict)
    _submissions: dict[str, int] = attrs.field(factory=dict)
    _outbox: list[SimEvent] = attrs.field(factory=list)

    @classmethod
    def create(
        cls,
        assets: Iterable[SimAsset],
        prices: Mapping[str, Decimal],
        cash: Decimal,
        new_id: Callable[[], str] = _uuid4,
    ) -> MatchingCore:
        listed = {asset.symbol: asset for asset in assets}
        missing = set(listed) - set(prices)
        if missing:
            raise ValueError(f"no starting price for {sorted(missing)}")
        return cls(listed, dict(prices), Ledger(cash), new_id)

    # Queries

    def assets(self) -> list[SimAsset]:
        return list(self._assets.values())

    def asset(self, symbol: str) -> SimAsset | None:
        return self._assets.get(symbol)

    def price(self, symbol: str) -> Decimal:
        return self._prices[symbol]

    def prices(self) -> dict[str, Decimal]:
        return dict(self._prices)

    def order(self, order_id: str) -> SimOrder:
        order = self._orders.get(order_id)
        if order is None:
            raise VenueRejection(404, NOT_FOUND, "order not found")
        return order

    def order_by_client_id(self, client_order_id: str) -> SimOrder:
        order_id = self._by_client_id.get(client_order_id)
        if order_id is None:
            raise VenueRejection(404, NOT_FOUND, "order not found")
        return self._orders[order_id]

    def orders(self) -> list[SimOrder]:
        """Every order, oldest first."""
        return list(self._orders.values())

    def positions(self) -> list[SimPosition]:
        return self._ledger.positions()

    def position(self, symbol: str) -> SimPosition:
        position = self._ledger.position(symbol)
        if position is None:
            raise VenueRejection(404, NOT_FOUND, "position does not exist")
        return position

    def held_for_orders(self, symbol: str) -> Decimal:
        """Shares of the position that open orders are about to take off it."""
        qty = self._ledger.position_qty(symbol)
        closing = Side.SELL if qty > 0 else Side.BUY
        return sum(
            (
                o.remaining_qty
                for o in self._orders.values()
                if o.is_open and o.symbol == symbol and o.side is closing
            ),
            ZERO,
        )

    def account(self) -> AccountFigures:
        holds = sum((o.hold for o in self._orders.values() if o.is_open), ZERO)
        return self._ledger.figures(self._prices, holds)

    def realized_pl(self) -> dict[str, Decimal]:
        return self._ledger.realized_pl()

    def submissions(self) -> dict[str, int]:
        """Per client_order_id, how many order requests reached this core."""
        return dict(self._submissions)

    def take_events(self) -> list[SimEvent]:
        """The events produced since the last call, oldest first."""
        events, self._outbox = self._outbox, []
        return events

    # Commands

    def submit(self, ticket: OrderTicket, now: datetime) -> SimOrder:
        """Accept an order (or raise VenueRejection); returns it as accepted.

        The order is then matched at once, so by the time this returns a marketable order
        is already filled and its ``new`` and ``fill`` events wait in the outbox.
        """
        cid = ticket.client_order_id or self._new_id()
        self._submissions[cid] = self._submissions.get(cid, 0) + 1
        if cid in self._by_client_id:
            raise VenueRejection(422, 40010001, "client_order_id must be unique")
        if len(cid) > 128:
            raise unprocessable("client_order_id must be no more than 128 characters")
        asset = self._assets.get(ticket.symbol)
        if asset is None:
            raise unprocessable(f'could not find asset "{ticket.symbol}"')
        if not asset.tradable:
            raise unprocessable(f"asset {ticket.symbol} is not tradable")
        _check_order_prices(ticket)
        price = self._prices[asset.symbol]
        qty = order_qty(ticket, asset, price)
        open_orders = [o for o in self._orders.values() if o.is_open and o.symbol == asset.symbol]
        hold = check_funds(
            ticket,
            asset,
            qty,
            price,
            position_qty=self._ledger.position_qty(asset.symbol),
            open_orders=open_orders,
            buying_power=self.account().buying_power,
        )
        order = SimOrder(
            id=self._new_id(),
            client_order_id=cid,
            symbol=asset.symbol,
            asset_id=asset.id,
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
        )
        self._orders[order.id] = order
        self._by_client_id[cid] = order.id
        self._emit("new", attrs.evolve(order, status="new"), now)
        self._match(order.id, now)
        return order

    def cancel(self, order_id: str, now: datetime) -> SimOrder:
        order = self.order(order_id)
        if not order.is_open:
            raise unprocessable("order is not cancelable")
        canceled = attrs.evolve(
            order, status="canceled", canceled_at=now, updated_at=now, hold=ZERO
        )
        self._emit("canceled", canceled, now)
        return canceled

    def cancel_all(self, now: datetime) -> list[SimOrder]:
        return [self.cancel(o.id, now) for o in self.orders() if o.is_open]

    def close_position(self, symbol: str, qty: Decimal | None, now: datetime) -> SimOrder:
        """Send a market order that flattens (or, with ``qty``, reduces) the position."""
        position = self.position(symbol)
        side = Side.SELL if position.qty > 0 else Side.BUY
        ticket = OrderTicket(
            symbol=symbol,
            side=side,
            type=OrderType.MARKET,
            time_in_force=TimeInForce.DAY,
            qty=qty if qty is not None else abs(position.qty),
        )
        return self.submit(ticket, now)

    def set_prices(self, prices: Mapping[str, Decimal], now: datetime) -> None:
        """Move prices; resting orders that become marketable fill, oldest first."""
        for symbol, price in prices.items():
            if symbol not in self._assets:
                raise unprocessable(f'could not find asset "{symbol}"')
            if price <= 0:
                raise unprocessable(f"invalid price {price} for {symbol}")
        self._prices.update(prices)
        for order in self.orders():
            if order.is_open and order.symbol in prices:
                self._match(order.id, now)

    # Matching

    def _match(self, order_id: str, now: datetime) -> None:
        order = self._orders[order_id]
        price = self._prices[order.symbol]
        if order.stop_price is not None and not order.triggered:
            reached = (
                price >= order.stop_price if order.side is Side.BUY else price <= order.stop_price
            )
            if reached:
                order = attrs.evolve(order, triggered=True)
                self._orders[order.id] = order
        if _marketable(order, price):
            self._fill(order, price, now)
        elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            # Immediate-or-cancel orders never rest.
            self.cancel(order.id, now)

    def _fill(self, order: SimOrder, price: Decimal, now: datetime) -> None:
        qty = order.remaining_qty
        position_qty = self._ledger.apply_fill(order.symbol, order.side, qty, price)
        filled = attrs.evolve(
            order,
            status="filled",
            filled_qty=order.qty,
            filled_avg_price=price,
            filled_at=now,
            updated_at=now,
            hold=ZERO,
        )
        self._emit("fill", filled, now, price=price, qty=qty, position_qty=position_qty)

    def _emit(
        self,
        event: str,
        order: SimOrder,
        now: datetime,
        *,
        price: Decimal | None = None,
        qty: Decimal | None = None,
        position_qty: Decimal | None = None,
    ) -> None:
        self._orders[order.id] = order
        self._outbox.append(SimEvent(event, order, now, self._new_id(), price, qty, position_qty))


def _marketable(order: SimOrder, price: Decimal) -> bool:
    if order.status in CLOSED_STATUSES:
        return False
    if order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and not order.triggered:
        return False
    if order.limit_price is None or order.type in (OrderType.MARKET, OrderType.STOP):
        return True
    if order.side is Side.BUY:
        return price <= order.limit_price
    return price >= order.limit_price


def _check_order_prices(ticket: OrderTicket) -> None:
    if ticket.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and ticket.limit_price is None:
        raise unprocessable("limit_price is required")
    if ticket.type in (OrderType.STOP, OrderType.STOP_LIMIT) and ticket.stop_price is None:
        raise unprocessable("stop_price is required")
    for name, price in (("limit_price", ticket.limit_price), ("stop_price", ticket.stop_price)):
        if price is not None and not is_valid_price(price):
            raise unprocessable(
                f"invalid {name} {price}. sub-penny increment does not fulfill minimum"
                " pricing criteria"
            )
