"""The matching core of the paper venue: orders, fills, positions and the account.

Pure: no I/O and no clock reads; every command takes ``now``. Events for the
``trade_updates`` stream collect in an outbox that the I/O shell drains after each command.
Market orders fill at the venue's current price; limit and stop orders rest until a price
change makes them marketable. With a ``fill_size``, each match fills at most that many
shares (a ``partial_fill``), and the rest waits for the next match: the symbol's next price
move. Multi-leg orders are built in ``legs``; an exit that fills cancels its siblings.
What an ioc or fok order could not fill at once expires; sessions and pending cancels are in
``core_lifecycle``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.admission import CASH_RULES, AccountRules, Market, admit, replacement
from brokers.sim.core.book import OrderBook
from brokers.sim.core.ledger import AccountFigures, Ledger, SimPosition
from brokers.sim.core.lifecycle import OrderLifecycle
from brokers.sim.core.margin import FuturesLedger, MarginRules
from brokers.sim.core.modify import OrderModification
from brokers.sim.core.orders import (
    OrderChanges,
    OrderTicket,
    SimEvent,
    SimOrder,
    VenueRejection,
    unprocessable,
)
from brokers.sim.core.rules import holds_shares, marketable
from brokers.sim.core.trading_hours import TradingHours

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime

    from brokers.base import Instrument
    from brokers.sim.core.assets import SimAsset

ZERO = Decimal(0)
NOT_FOUND = 40410000


def _uuid4() -> str:
    return str(uuid.uuid4())


@attrs.define
class MatchingCore(OrderLifecycle, TradingHours, OrderModification):
    """One account and its order book: equities, or (made with ``instruments``) futures."""

    _assets: dict[str, SimAsset]
    _prices: dict[str, Decimal]
    _ledger: Ledger
    _new_id: Callable[[], str] = _uuid4
    # Largest quantity one match fills; None: the whole remaining quantity.
    _fill_size: Decimal | None = None
    _book: OrderBook = attrs.field(factory=OrderBook)
    _submissions: dict[str, int] = attrs.field(factory=dict)
    _outbox: list[SimEvent] = attrs.field(factory=list)
    # The account's equity at the last session close (the starting cash before the first):
    # what Alpaca reports as ``last_equity``, the base of the day's P&L.
    _last_equity: Decimal = ZERO
    # Cash and buying power (equities) or margin (futures).
    _rules: AccountRules = CASH_RULES
    _trading_closed: bool = False

    @classmethod
    def create(
        cls,
        assets: Iterable[SimAsset],
        prices: Mapping[str, Decimal],
        cash: Decimal,
        new_id: Callable[[], str] = _uuid4,
        fill_size: Decimal | None = None,
        instruments: Iterable[Instrument] | None = None,
    ) -> MatchingCore:
        """An equity account; with ``instruments`` (one per asset), a futures account."""
        listed = {asset.symbol: asset for asset in assets}
        missing = set(listed) - set(prices)
        if missing:
            raise ValueError(f"no starting price for {sorted(missing)}")
        if fill_size is not None and fill_size <= 0:
            raise ValueError("fill_size must be > 0")
        if instruments is None:
            return cls(listed, dict(prices), Ledger(cash), new_id, fill_size, last_equity=cash)
        known = {instrument.symbol: instrument for instrument in instruments}
        if set(known) != set(listed):
            raise ValueError("a futures account needs one instrument per asset")
        ledger = FuturesLedger(cash, instruments=known)
        return cls(
            listed,
            dict(prices),
            ledger,
            new_id,
            fill_size,
            last_equity=cash,
            rules=MarginRules(known),
        )

    def list_asset(
        self, asset: SimAsset, price: Decimal, instrument: Instrument | None = None
    ) -> None:
        """List one more asset (a futures account: with its instrument), or relist one."""
        if isinstance(self._ledger, FuturesLedger):
            if instrument is None:
                raise ValueError("a futures account lists instruments")
            self._ledger.list_instrument(instrument)
        self._assets[asset.symbol] = asset
        self._prices.setdefault(asset.symbol, price)

    def delist(self, symbol: str, now: datetime) -> SimPosition | None:
        """The asset no longer trades (an expired contract): its open orders expire and
        its position is settled at the last price (the equity-index futures settle in
        cash); returns the position it settled."""
        asset = self._assets[symbol]
        self._assets[symbol] = attrs.evolve(asset, tradable=False)
        for order in list(self._book.open_orders()):
            if order.symbol == symbol:
                self.expire(order.id, now)
        position = self._ledger.position(symbol)
        if position is not None:
            closing = Side.SELL if position.qty > 0 else Side.BUY
            self._ledger.apply_fill(symbol, closing, abs(position.qty), self._prices[symbol])
        return position

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
        return self._book.get(order_id)

    def order_by_client_id(self, client_order_id: str) -> SimOrder:
        return self._book.by_client_id(client_order_id)

    def orders(self) -> list[SimOrder]:
        """Every order, oldest first."""
        return self._book.all()

    def legs(self, order: SimOrder) -> list[SimOrder]:
        return self._book.legs(order)

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
                for o in self._book.open_orders()
                if holds_shares(o) and o.symbol == symbol and o.side is closing
            ),
            ZERO,
        )

    def held_for_orders_by_symbol(self) -> dict[str, Decimal]:
        """``held_for_orders`` of every symbol, in one pass over the orders (listing 1,000
        positions must not scan every order once per position)."""
        held: dict[str, Decimal] = {}
        for o in self._book.open_orders():
            if not holds_shares(o):
                continue
            closing = Side.SELL if self._ledger.position_qty(o.symbol) > 0 else Side.BUY
            if o.side is closing:
                held[o.symbol] = held.get(o.symbol, ZERO) + o.remaining_qty
        return held

    def account(self) -> AccountFigures:
        holds = sum((o.hold for o in self._book.open_orders()), ZERO)
        return self._ledger.figures(self._prices, holds)

    def realized_pl(self) -> dict[str, Decimal]:
        return self._ledger.realized_pl()

    @property
    def last_equity(self) -> Decimal:
        """Equity at the previous session close; the starting cash before the first close."""
        return self._last_equity

    def _session_closed(self) -> None:
        # At the prices of the moment the close is applied: the venue keeps no history.
        self._last_equity = self.account().equity

    def _account_ledger(self) -> Ledger:
        return self._ledger

    def submissions(self) -> dict[str, int]:
        """Per client_order_id, how many order requests reached this core."""
        return dict(self._submissions)

    def take_events(self) -> list[SimEvent]:
        """The events produced since the last call, oldest first."""
        events, self._outbox = self._outbox, []
        return events

    # Commands

    def submit(
        self, ticket: OrderTicket, now: datetime, *, reject_after_accept: bool = False
    ) -> SimOrder:
        """Accept an order (or raise VenueRejection); returns it as accepted.

        The order is then matched at once, so by the time this returns a marketable order
        is already filled and its ``new`` and ``fill`` events wait in the outbox. With
        ``reject_after_accept`` the order is accepted, then rejected before it works (a
        ``rejected`` event instead of ``new``), as when the market refuses what the broker
        took.
        """
        cid = ticket.client_order_id or self._new_id()
        self._submissions[cid] = self._submissions.get(cid, 0) + 1
        if self._book.knows(cid):
            raise VenueRejection(422, 40010001, "client_order_id must be unique")
        if len(cid) > 128:
            raise unprocessable("client_order_id must be no more than 128 characters")
        asset = self._assets.get(ticket.symbol)
        if asset is None:
            raise VenueRejection(
                422, 42210000, f'could not find asset "{ticket.symbol}"', reason="InvalidContract"
            )
        if not asset.tradable:
            raise VenueRejection(
                422, 42210000, f"asset {ticket.symbol} is not tradable", reason="InvalidContract"
            )
        self.check_open()
        order, legs = admit(ticket, cid, self._market(asset), self._new_id, now)
        self._book.add(order)
        for leg in legs:
            self._book.add(leg)
        if reject_after_accept:
            for leg in legs:
                self._book.put(_rejected(leg, now))
            self._emit("rejected", _rejected(order, now), now)
            return order
        self._emit("new", attrs.evolve(order, status="new"), now)
        self._match(order.id, now)
        for leg in legs:
            if leg.armed:
                self._match(leg.id, now)
        return order

    def cancel(self, order_id: str, now: datetime, *, sibling: bool = False) -> SimOrder:
        """Cancel an open order, and the open legs of a parent with it."""
        order = self.order(order_id)
        if not order.is_open:
            raise unprocessable("order is not cancelable")
        canceled = attrs.evolve(
            order, status="canceled", canceled_at=now, updated_at=now, hold=ZERO
        )
        shown = order.status == "pending_cancel"
        self._emit("canceled", canceled, now, sibling_cancel=sibling, pending_shown=shown)
        for leg in self.legs(order):
            if leg.is_open:
                self.cancel(leg.id, now, sibling=sibling)
        return canceled

    def cancel_all(self, now: datetime) -> list[SimOrder]:
        return [
            self.cancel(order.id, now)
            for order in self._book.open_orders()
            if self._book.get(order.id).is_open
        ]

    def replace(self, order_id: str, changes: OrderChanges, now: datetime) -> SimOrder:
        """PATCH an open order: a new order takes its place, ``replaces`` naming the old."""
        old = self.order(order_id)
        if not old.is_open or old.filled_qty > 0 or old.status == "held" or old.legs:
            raise unprocessable("order is not replaceable")
        cid = changes.client_order_id or self._new_id()
        if self._book.knows(cid):
            raise VenueRejection(422, 40010001, "client_order_id must be unique")
        market = self._market(self._assets[old.symbol], replacing=old)
        new = replacement(old, changes, cid, market, self._new_id, now)
        self._emit(
            "replaced",
            attrs.evolve(
                old,
                status="replaced",
                replaced_by=new.id,
                replaced_at=now,
                updated_at=now,
                hold=ZERO,
            ),
            now,
        )
        self._book.add(new)
        if old.parent_id is not None:
            # A replaced exit leg stays in its group, so one-cancels-other still holds.
            parent = self._book.get(old.parent_id)
            legs = tuple(new.id if leg == old.id else leg for leg in parent.legs)
            self._book.put(attrs.evolve(parent, legs=legs))
        self._emit("new", attrs.evolve(new, status="new"), now)
        self._match(new.id, now)
        return new

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
        # Only orders working before the move: an exit armed by this move's entry fill has
        # already been matched once, and one price move is one match.
        working = [o.id for o in self._book.open_orders() if o.armed and o.symbol in prices]
        for order_id in working:
            self._match(order_id, now)

    def _market(self, asset: SimAsset, replacing: SimOrder | None = None) -> Market:
        """What a new order in ``asset`` (or one replacing ``replacing``) is checked against."""
        skipped = replacing.id if replacing is not None else None
        others = [
            o
            for o in self._book.open_orders()
            if holds_shares(o) and o.symbol == asset.symbol and o.id != skipped
        ]
        freed = replacing.hold if replacing is not None else ZERO
        return Market(
            asset=asset,
            price=self._prices[asset.symbol],
            position_qty=self._ledger.position_qty(asset.symbol),
            open_orders=others,
            buying_power=self.account().buying_power + freed,
            rules=self._rules,
        )

    # Matching

    def _match(self, order_id: str, now: datetime) -> None:
        order = self._book.get(order_id)
        if not order.is_open or not order.armed or self._trading_closed:
            return
        price = self._prices[order.symbol]
        if order.stop_price is not None and not order.triggered:
            reached = (
                price >= order.stop_price if order.side is Side.BUY else price <= order.stop_price
            )
            if reached:
                order = attrs.evolve(order, triggered=True)
                self._book.put(order)
        chunk = order.remaining_qty
        if self._fill_size is not None:
            chunk = min(chunk, self._fill_size)
        whole = chunk == order.remaining_qty
        if marketable(order, price) and (whole or order.time_in_force is not TimeInForce.FOK):
            self._fill(order, chunk, price, now)
        order = self._book.get(order_id)
        if order.is_open and order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            # Immediate-or-cancel orders never rest: what did not fill now expires.
            self.expire(order.id, now)

    def _fill(self, order: SimOrder, qty: Decimal, price: Decimal, now: datetime) -> None:
        position_qty = self._ledger.apply_fill(order.symbol, order.side, qty, price)
        filled_qty = order.filled_qty + qty
        average = ((order.filled_avg_price or ZERO) * order.filled_qty + price * qty) / filled_qty
        done = filled_qty == order.qty
        # A fill while a cancel is pending leaves it pending.
        working = "pending_cancel" if order.status == "pending_cancel" else "partially_filled"
        filled = attrs.evolve(
            order,
            status="filled" if done else working,
            filled_qty=filled_qty,
            filled_avg_price=average,
            filled_at=now if done else None,
            updated_at=now,
            hold=ZERO if done else order.hold * (order.qty - filled_qty) / order.remaining_qty,
        )
        event = "fill" if done else "partial_fill"
        self._emit(event, filled, now, price=price, qty=qty, position_qty=position_qty)
        if order.filled_qty == 0:
            # An exit's first fill cancels the other exits of its group.
            for sibling in self._book.siblings(filled):
                if sibling.is_open:
                    self.cancel(sibling.id, now, sibling=True)
        if done:
            self._arm_legs(filled, now)

    def _arm_legs(self, entry: SimOrder, now: datetime) -> None:
        """The entry of a bracket or oto has filled: its exits start working."""
        for leg_id in entry.legs:
            # Read each leg as it stands now: an exit matched while arming may already have
            # canceled its sibling, which must not come back to life.
            leg = self._book.get(leg_id)
            if leg.armed or not leg.is_open:
                continue
            if leg.type is OrderType.LIMIT:
                self._emit("new", attrs.evolve(leg, status="new", armed=True, updated_at=now), now)
            else:
                self._book.put(attrs.evolve(leg, armed=True))
            self._match(leg.id, now)

    def _store(self, order: SimOrder) -> None:
        self._book.put(order)

    def _emit(
        self,
        event: str,
        order: SimOrder,
        now: datetime,
        *,
        price: Decimal | None = None,
        qty: Decimal | None = None,
        position_qty: Decimal | None = None,
        sibling_cancel: bool = False,
        pending_shown: bool = False,
    ) -> None:
        self._book.put(order)
        execution_id = self._new_id()
        legs = tuple(self._book.get(leg) for leg in order.legs)
        self._outbox.append(
            SimEvent(
                event,
                order,
                now,
                execution_id,
                price,
                qty,
                position_qty,
                sibling_cancel,
                legs,
                pending_shown,
            )
        )


def _rejected(order: SimOrder, now: datetime) -> SimOrder:
    return attrs.evolve(
        order, status="rejected", failed_at=now, updated_at=now, hold=ZERO, armed=False
    )
