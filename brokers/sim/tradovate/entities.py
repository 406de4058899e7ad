"""Tradovate's entities built from the front core's events (pure: no I/O, no clock reads).

The REST handlers tell the store about each command they give the core (``place``,
``modify``, ``cancel``); the core's events then become execution reports, fills and status
changes. Every change is kept as an ``EntityChange`` until ``take_changes``, in the order the
digest's §7 expects (itself unconfirmed): order Created ``PendingNew``; command, order
version, command report; execution report ``New`` then ``Trade``; fill Created; order,
position and cash balance Updated.

Bounded: finished orders beyond ``FINISHED_ORDERS_KEPT`` are forgotten oldest first, with
their versions, commands, reports and fills (a venue may run for months).
"""

from __future__ import annotations

import itertools
from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

from brokers.sim.core.contracts import parse_contract
from brokers.sim.core.globex import trading_date as trading_day
from brokers.sim.tradovate.changes import EntityChange, EntityType, EventType
from brokers.sim.tradovate.wire import (
    ACTIONS,
    ORDER_TYPES,
    TIMES_IN_FORCE,
    num,
    timestamp,
    trade_date,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from brokers.sim.core.orders import SimEvent, SimOrder

FINISHED_ORDERS_KEPT = 5_000
ZERO = Decimal(0)
CommandType = Literal["New", "Modify", "Cancel"]
# The master of each entity type, as ``deps ?masterid=`` reads it.
MASTERS: dict[EntityType, str] = {
    "order": "accountId",
    "orderVersion": "orderId",
    "command": "orderId",
    "commandReport": "commandId",
    "executionReport": "commandId",
    "fill": "orderId",
    "position": "accountId",
    "cashBalance": "accountId",
    "orderStrategy": "accountId",
    "orderStrategyLink": "orderStrategyId",
}
ORD_STATUS: dict[str, str] = {
    "held": "Suspended",
    "filled": "Filled",
    "canceled": "Canceled",
    "expired": "Expired",
    "rejected": "Rejected",
    "replaced": "Canceled",
}
EXEC_TYPES: dict[str, str] = {
    "new": "New",
    "fill": "Trade",
    "partial_fill": "Trade",
    "canceled": "Canceled",
    "expired": "Expired",
    "rejected": "Rejected",
    "modified": "Replaced",
}


@attrs.frozen
class CommandInfo:
    """What a request said beyond the order itself."""

    cl_ord_id: str | None = None
    is_automated: bool = False
    text: str | None = None


@attrs.frozen
class Links:
    """How an order relates to others: its OSO parent, its OCO partner, its OCO group."""

    parent: str | None = None
    linked: str | None = None
    oco_group: str | None = None


def ord_status(order: SimOrder) -> str:
    if order.status == "held" and order.armed:
        # An armed stop exit is ``held`` in the core until its stop is reached (Alpaca's
        # way); at Tradovate it is a working order like its take-profit.
        return "Working"
    return ORD_STATUS.get(order.status, "Working")


@attrs.define
class EntityStore:
    account_id: int
    user_id: int
    _ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(10_001))
    _entities: dict[EntityType, dict[int, dict[str, Any]]] = attrs.field(factory=dict)
    _tv_ids: dict[str, int] = attrs.field(factory=dict)  # core order id -> order id
    _core_ids: dict[int, str] = attrs.field(factory=dict)
    _current_command: dict[int, int] = attrs.field(factory=dict)
    _cancel_command: dict[int, int] = attrs.field(factory=dict)
    _dependents: dict[int, list[tuple[EntityType, int]]] = attrs.field(factory=dict)
    _suspended: set[str] = attrs.field(factory=set)
    _finished: deque[int] = attrs.field(factory=deque)
    _finished_set: set[int] = attrs.field(factory=set)
    _tallies: dict[str, dict[str, Decimal]] = attrs.field(factory=dict)
    _changes: list[EntityChange] = attrs.field(factory=list)
    # Contract name -> id, as first seen (see ``_contract_id``).
    _contract_ids: dict[str, int] = attrs.field(factory=dict)

    # Reading

    def order_id(self, core_id: str) -> int | None:
        return self._tv_ids.get(core_id)

    def core_id(self, order_id: int) -> str | None:
        return self._core_ids.get(order_id)

    def all(self, entity_type: EntityType) -> list[dict[str, Any]]:
        return list(self._entities.get(entity_type, {}).values())

    def item(self, entity_type: EntityType, entity_id: int) -> dict[str, Any] | None:
        return self._entities.get(entity_type, {}).get(entity_id)

    def deps(self, entity_type: EntityType, master_ids: Iterable[int]) -> list[dict[str, Any]]:
        wanted = set(master_ids)
        field = MASTERS[entity_type]
        return [e for e in self.all(entity_type) if e.get(field) in wanted]

    @property
    def awaiting_arm(self) -> int:
        """How many orders wait for their exits' arming to show (their ``New`` report)."""
        return len(self._suspended)

    def take_changes(self) -> list[EntityChange]:
        changes, self._changes = self._changes, []
        return changes

    # Commands the REST handlers gave the core

    def place(
        self, order: SimOrder, info: CommandInfo, now: datetime, links: Links = Links()
    ) -> int:
        """A new order: its Order (``PendingNew``, or ``Suspended`` for an unarmed
        bracket), New command, version and report. Returns its order id."""
        order_id = self._known(order.id)
        status = "Suspended" if not order.armed else "PendingNew"
        # Its ``New`` execution report comes with the core's event, or, for an exit the
        # core armed silently, when ``apply`` sees it armed.
        self._suspended.add(order.id)
        entity = {
            "id": order_id,
            "accountId": self.account_id,
            "contractId": self._contract_id(order.symbol, now),
            "timestamp": timestamp(now),
            "action": ACTIONS[order.side],
            "ordStatus": status,
            "parentId": self._tv_ids.get(links.parent) if links.parent else None,
            "linkedId": self._known(links.linked) if links.linked else None,
            "ocoId": self._known(links.oco_group) if links.oco_group else None,
            "admin": False,
        }
        self._put("order", entity, "Created")
        self._command(order_id, order, "New", info, now)
        return order_id

    def modify(self, order: SimOrder, info: CommandInfo, now: datetime) -> int:
        """A Modify command (with its new order version); returns the command id."""
        return self._command(self._known(order.id), order, "Modify", info, now)

    def cancel(self, order: SimOrder, info: CommandInfo, now: datetime) -> int:
        order_id = self._known(order.id)
        command_id = self._command(order_id, order, "Cancel", info, now, version=False)
        self._cancel_command[order_id] = command_id
        return command_id

    def link(self, order_id: int, *, linked: int | None = None, oco: int | None = None) -> None:
        """Set an order's OCO partner (and group) once both exist."""
        entity = self.item("order", order_id)
        if entity is not None:
            entity = {**entity, "linkedId": linked, "ocoId": oco}
            self._put("order", entity, "Updated")

    def put_strategy(self, entity_type: EntityType, entity: dict[str, Any], created: bool) -> None:
        self._put(entity_type, entity, "Created" if created else "Updated")

    # The core's events

    def apply(
        self, events: Iterable[SimEvent], order_of: Callable[[str], SimOrder], now: datetime
    ) -> set[str]:
        """Turn the core's events into entity changes; ``order_of`` reads the core's
        order by id (for exits the entry's fill armed without an event). Returns the symbols
        whose positions the fills changed (``position_entity`` then gives their figures)."""
        dirty: dict[int, SimOrder] = {}
        positions: set[str] = set()
        for event in events:
            order = event.order
            if order.id not in self._tv_ids:
                self.place(order, CommandInfo(), event.timestamp)
            order_id = self._tv_ids[order.id]
            if event.event == "new":
                self._suspended.discard(order.id)
            exec_type = EXEC_TYPES.get(event.event)
            if exec_type is None:
                continue
            self._execution_report(order_id, order, exec_type, event)
            if exec_type == "Trade" and event.qty is not None and event.price is not None:
                self._fill(order_id, order, event.qty, event.price, event.timestamp)
                positions.add(order.symbol)
            dirty[order_id] = order
        for core_id in list(self._suspended):
            order = order_of(core_id)
            if not order.is_open:
                # Ended before it was ever armed (an exit whose entry was canceled): it
                # will never be, and must not be looked at again for months.
                self._suspended.discard(core_id)
            elif order.armed:
                self._suspended.discard(core_id)
                order_id = self._tv_ids[core_id]
                self._execution_report(order_id, order, "New", None, now)
                dirty[order_id] = order
        for order_id, order in dirty.items():
            current = self.item("order", order_id)
            if current is None:
                continue
            status = ord_status(order) if order.armed else "Suspended"
            self._put("order", {**current, "ordStatus": status, "timestamp": timestamp(now)})
            if not order.is_open:
                self._finish(order_id)
        return positions

    def cash_changed(self, balance: dict[str, Any]) -> None:
        """The account's cash balance after a fill."""
        entity = {"id": self.account_id, **balance}
        created = self.item("cashBalance", self.account_id) is None
        self._put("cashBalance", entity, "Created" if created else "Updated")

    def position_entity(
        self, symbol: str, net_pos: Decimal, net_price: Decimal | None, now: datetime
    ) -> None:
        """Update a position's net figures (the core's truth) beside its fill tallies."""
        tally = self._tally(symbol)
        contract_id = self._contract_id(symbol, now)
        entity = {
            "id": contract_id,
            "accountId": self.account_id,
            "contractId": contract_id,
            "timestamp": timestamp(now),
            "tradeDate": trade_date(now),
            "netPos": num(net_pos),
            "netPrice": num(net_price) if net_price is not None and net_pos else None,
            "bought": num(tally["bought"]),
            "boughtValue": num(tally["bv"]),
            "sold": num(tally["sold"]),
            "soldValue": num(tally["sv"]),
            "prevPos": 0,
            "prevPrice": None,
        }
        created = self.item("position", contract_id) is None
        self._put("position", entity, "Created" if created else "Updated")

    # Building blocks

    def _known(self, core_id: str) -> int:
        order_id = self._tv_ids.get(core_id)
        if order_id is None:
            order_id = self._tv_ids[core_id] = next(self._ids)
            self._core_ids[order_id] = core_id
        return order_id

    def _contract_id(self, symbol: str, now: datetime) -> int:
        # Kept from its first sighting, while the contract trades: after its expiry its
        # name (one digit of year) reads as the maturity ten years later.
        known = self._contract_ids.get(symbol)
        if known is not None:
            return known
        contract = parse_contract(symbol, trading_day(now))
        if contract is None:
            return 0
        self._contract_ids[symbol] = contract.id
        return contract.id

    def _command(
        self,
        order_id: int,
        order: SimOrder,
        command_type: CommandType,
        info: CommandInfo,
        now: datetime,
        *,
        version: bool = True,
    ) -> int:
        command_id = next(self._ids)
        command = {
            "id": command_id,
            "orderId": order_id,
            "timestamp": timestamp(now),
            "clOrdId": info.cl_ord_id,
            "commandType": command_type,
            "commandStatus": "Pending",
            "userId": self.user_id,
            "isAutomated": info.is_automated,
        }
        self._put("command", command, "Created", owner=order_id)
        if version:
            # An order version shares its command's id, as Tradovate's do.
            self._put(
                "orderVersion",
                self._version(command_id, order_id, order, info),
                "Created",
                owner=order_id,
            )
            self._current_command[order_id] = command_id
        report = {
            "id": next(self._ids),
            "commandId": command_id,
            "timestamp": timestamp(now),
            "commandStatus": "RiskPassed",
            "ordStatus": ord_status(order) if command_type != "New" else "PendingNew",
        }
        self._put("commandReport", report, "Created", owner=order_id)
        self._put("command", {**command, "commandStatus": "RiskPassed"}, "Updated")
        return command_id

    def _version(
        self, command_id: int, order_id: int, order: SimOrder, info: CommandInfo
    ) -> dict[str, Any]:
        return {
            "id": command_id,
            "orderId": order_id,
            "orderQty": num(order.qty),
            "orderType": ORDER_TYPES[order.type],
            "price": num(order.limit_price) if order.limit_price is not None else None,
            "stopPrice": num(order.stop_price) if order.stop_price is not None else None,
            "timeInForce": TIMES_IN_FORCE[order.time_in_force],
            "text": info.text,
        }

    def _execution_report(
        self,
        order_id: int,
        order: SimOrder,
        exec_type: str,
        event: SimEvent | None,
        now: datetime | None = None,
    ) -> None:
        at = event.timestamp if event is not None else now
        assert at is not None
        command_id = self._current_command.get(order_id, 0)
        if exec_type == "Canceled":
            command_id = self._cancel_command.get(order_id, command_id)
        report = {
            "id": next(self._ids),
            "commandId": command_id,
            "accountId": self.account_id,
            "contractId": self._contract_id(order.symbol, at),
            "timestamp": timestamp(at),
            "tradeDate": trade_date(at),
            "orderId": order_id,
            "execType": exec_type,
            "ordStatus": "Working" if exec_type == "New" else ord_status(order),
            "action": ACTIONS[order.side],
            "cumQty": num(order.filled_qty),
            "avgPx": num(order.filled_avg_price) if order.filled_avg_price is not None else None,
            "lastQty": num(event.qty) if event is not None and event.qty is not None else None,
            "lastPx": num(event.price) if event is not None and event.price is not None else None,
        }
        self._put("executionReport", report, "Created", owner=order_id)

    def _fill(
        self, order_id: int, order: SimOrder, qty: Decimal, price: Decimal, now: datetime
    ) -> None:
        fill = {
            "id": next(self._ids),
            "orderId": order_id,
            "contractId": self._contract_id(order.symbol, now),
            "timestamp": timestamp(now),
            "tradeDate": trade_date(now),
            "action": ACTIONS[order.side],
            "qty": num(qty),
            "price": num(price),
            "active": True,
            "finallyPaired": 0,
        }
        self._put("fill", fill, "Created", owner=order_id)
        tally = self._tally(order.symbol)
        side = "bought" if ACTIONS[order.side] == "Buy" else "sold"
        value = "bv" if side == "bought" else "sv"
        tally[side] += qty
        tally[value] += qty * price

    def _tally(self, symbol: str) -> dict[str, Decimal]:
        return self._tallies.setdefault(
            symbol, {"bought": ZERO, "sold": ZERO, "bv": ZERO, "sv": ZERO}
        )

    def _put(
        self,
        entity_type: EntityType,
        entity: dict[str, Any],
        event_type: EventType = "Updated",
        *,
        owner: int | None = None,
    ) -> None:
        self._entities.setdefault(entity_type, {})[entity["id"]] = entity
        if owner is not None:
            self._dependents.setdefault(owner, []).append((entity_type, entity["id"]))
        self._changes.append(EntityChange(entity_type, event_type, entity))

    def _finish(self, order_id: int) -> None:
        if order_id in self._finished_set:
            return
        self._finished.append(order_id)
        self._finished_set.add(order_id)
        while len(self._finished) > FINISHED_ORDERS_KEPT:
            forgotten = self._finished.popleft()
            self._finished_set.discard(forgotten)
            self._forget(forgotten)

    def _forget(self, order_id: int) -> None:
        for entity_type, entity_id in self._dependents.pop(order_id, []):
            self._entities.get(entity_type, {}).pop(entity_id, None)
        self._entities.get("order", {}).pop(order_id, None)
        core_id = self._core_ids.pop(order_id, None)
        if core_id is not None:
            self._tv_ids.pop(core_id, None)
        self._current_command.pop(order_id, None)
        self._cancel_command.pop(order_id, None)
