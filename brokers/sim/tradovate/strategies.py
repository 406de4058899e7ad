"""Order strategies (``multibracket``, type 2): an entry, then on its fill one OCO pair per
bracket, priced at the fill plus the bracket's signed point offsets.

The front arms the brackets itself (``arm``, after every publish): the core's oco pair is
a limit take-profit with a stop-loss leg, both working at once. Link labels (``Entry``,
``TP``, ``SL``) are unconfirmed.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import msgspec

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.orders import OrderTicket, VenueRejection
from brokers.sim.tradovate.entities import CommandInfo, Links
from brokers.sim.tradovate.orders import (
    ACCESS_DENIED,
    SIDES,
    Refused,
    check_symbol,
    submit,
    ticket_of,
)
from brokers.sim.tradovate.requests import (
    InterruptOrderStrategy,
    MultibracketParams,
    PlaceOrder,
    StartOrderStrategy,
    read_params,
)
from brokers.sim.tradovate.wire import FailureReason, failure, listed, timestamp

if TYPE_CHECKING:
    from brokers.sim.tradovate.front import TradovateFront

MULTIBRACKET = 2
DISABLED = "Order strategy is disabled"


@attrs.define
class Strategy:
    id: int
    symbol: str
    action: str
    params: MultibracketParams
    entry: str  # core order id
    armed: bool = False
    orders: list[str] = attrs.field(factory=list)


@attrs.define
class Strategies:
    _ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(7001))
    _link_ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(8001))
    _live: dict[int, Strategy] = attrs.field(factory=dict)

    def start(self, front: TradovateFront, body: StartOrderStrategy) -> dict[str, Any]:
        if body.account_id is not None and body.account_id != front.account_id:
            raise Refused(ACCESS_DENIED)
        if body.order_strategy_type_id != MULTIBRACKET:
            raise Refused(failure(FailureReason.UNSUPPORTED, "Unknown order strategy type"))
        params = read_params(body.params)
        symbol = check_symbol(front, body.symbol)
        entry_version = params.entry_version
        total = sum(b.qty for b in params.brackets)
        # Each bracket closes a part of the entry: one of no (or fewer) contracts would let
        # another outgrow the position and flip it when it fills.
        whole = all(b.qty >= 1 for b in params.brackets)
        if not params.brackets or not whole or total != entry_version.order_qty:
            raise Refused(
                failure(FailureReason.UNKNOWN_REASON, "brackets must add up to the entry")
            )
        entry_body = PlaceOrder(
            action=body.action,
            symbol=symbol,
            order_qty=entry_version.order_qty,
            order_type=entry_version.order_type,
            price=entry_version.price,
            stop_price=entry_version.stop_price,
            time_in_force=entry_version.time_in_force,
        )
        entry = submit(front, ticket_of(entry_body, symbol, entry_version.order_qty))
        now = front.clock()
        strategy = Strategy(
            next(self._ids), symbol, body.action, params, entry.id, orders=[entry.id]
        )
        self._live[strategy.id] = strategy
        front.entities.place(entry, CommandInfo(is_automated=body.is_automated), now)
        entity = self._entity(front, strategy, body.params, "ActiveStrategy")
        front.entities.put_strategy("orderStrategy", entity, created=True)
        self._link(front, strategy, entry.id, "Entry")
        self.arm(front)
        return {"orderStrategy": entity}

    def interrupt(self, front: TradovateFront, body: InterruptOrderStrategy) -> dict[str, Any]:
        strategy = self._live.get(body.order_strategy_id)
        if strategy is None:
            raise Refused(failure(FailureReason.UNKNOWN_REASON, "Order strategy not found"))
        now = front.clock()
        for core_id in strategy.orders:
            order = front.core.order(core_id)
            if order.is_open and order.parent_id is None:
                front.entities.cancel(order, CommandInfo(), now)
                front.core.cancel(core_id, now)
        return {"orderStrategy": self._finish(front, strategy, "ExecutionInterrupted")}

    def arm(self, front: TradovateFront) -> None:
        """Send the brackets of strategies whose entry has filled since the last call."""
        for strategy in list(self._live.values()):
            entry = front.core.order(strategy.entry)
            if strategy.armed:
                if not any(front.core.order(o).is_open for o in strategy.orders):
                    self._finish(front, strategy, "ExecutionFinished")
                continue
            if not entry.is_open and entry.status != "filled":
                self._finish(front, strategy, "ExecutionFailed")
                continue
            if entry.status != "filled" or entry.filled_avg_price is None:
                continue
            strategy.armed = True
            self._send_brackets(front, strategy, entry.filled_avg_price)

    def _send_brackets(self, front: TradovateFront, strategy: Strategy, fill: Decimal) -> None:
        now = front.clock()
        side = SIDES[strategy.action]
        exit_side = Side.SELL if side is Side.BUY else Side.BUY
        for bracket in strategy.params.brackets:
            if bracket.profit_target is None or bracket.stop_loss is None:
                continue
            ticket = OrderTicket(
                symbol=strategy.symbol,
                side=exit_side,
                type=OrderType.LIMIT,
                time_in_force=TimeInForce.GTC,
                qty=Decimal(bracket.qty),
                limit_price=fill + bracket.profit_target,
                take_profit_limit=fill + bracket.profit_target,
                stop_loss_stop=fill + bracket.stop_loss,
                order_class="oco",
            )
            try:
                parent = front.core.submit(ticket, now)
            except VenueRejection:
                self._finish(front, strategy, "ExecutionFailed")
                return
            leg = front.core.legs(front.core.order(parent.id))[0]
            for order, label, other in ((parent, "TP", leg), (leg, "SL", parent)):
                front.entities.place(
                    order, CommandInfo(), now, Links(parent=strategy.entry, linked=other.id)
                )
                strategy.orders.append(order.id)
                self._link(front, strategy, order.id, label)

    def _entity(
        self, front: TradovateFront, strategy: Strategy, params: str, status: str
    ) -> dict[str, Any]:
        contract = next(c for c in listed(front) if c.name == strategy.symbol)
        return {
            "id": strategy.id,
            "accountId": front.account_id,
            "timestamp": timestamp(front.clock()),
            "contractId": contract.id,
            "orderStrategyTypeId": MULTIBRACKET,
            "action": strategy.action,
            "params": params,
            "status": status,
        }

    def _finish(self, front: TradovateFront, strategy: Strategy, status: str) -> dict[str, Any]:
        self._live.pop(strategy.id, None)
        params = msgspec.json.encode(strategy.params).decode()
        entity = self._entity(front, strategy, params, status)
        front.entities.put_strategy("orderStrategy", entity, created=False)
        return entity

    def _link(self, front: TradovateFront, strategy: Strategy, core_id: str, label: str) -> None:
        order_id = front.entities.order_id(core_id)
        link = {
            "id": next(self._link_ids),
            "orderStrategyId": strategy.id,
            "orderId": order_id,
            "label": label,
        }
        front.entities.put_strategy("orderStrategyLink", link, created=True)
