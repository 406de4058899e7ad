"""The entity store built from the front core's events (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from brokers.base import OrderType, Side, TimeInForce
from brokers.sim.core.assets import SimAsset
from brokers.sim.core.contracts import PRODUCTS, front_contract
from brokers.sim.core.matching import MatchingCore
from brokers.sim.core.orders import OrderChanges, OrderTicket
from brokers.sim.tradovate.entities import CommandInfo, EntityStore

if TYPE_CHECKING:
    import pytest

T0 = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
MNQ = front_contract(PRODUCTS["MNQ"], T0.date()).name


def _core() -> MatchingCore:
    return MatchingCore.create(
        [SimAsset(symbol=MNQ, fractionable=False)], {MNQ: Decimal("21000.25")}, Decimal(100000)
    )


def _limit(price: str) -> OrderTicket:
    return OrderTicket(
        symbol=MNQ,
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.DAY,
        qty=Decimal(1),
        limit_price=Decimal(price),
    )


def test_a_resting_limit_order_then_its_fill() -> None:
    """Placed: Created PendingNew ... New report, Working; filled: Trade, fill, Filled."""
    core, store = _core(), EntityStore(1, 2)
    order = core.submit(_limit("20990"), T0)
    order_id = store.place(order, CommandInfo(cl_ord_id="a"), T0)
    store.apply(core.take_events(), core.order, T0)
    kinds = [(c.entity_type, c.event_type) for c in store.take_changes()]
    assert kinds[0] == ("order", "Created")
    assert ("executionReport", "Created") in kinds
    assert store.item("order", order_id)["ordStatus"] == "Working"  # type: ignore[index]
    core.set_prices({MNQ: Decimal(20990)}, T0)
    touched = store.apply(core.take_events(), core.order, T0)
    assert touched == {MNQ}
    reports = [e["execType"] for e in store.all("executionReport")]
    assert reports == ["New", "Trade"]
    assert store.all("fill")[0]["price"] == 20990
    assert store.item("order", order_id)["ordStatus"] == "Filled"  # type: ignore[index]


def test_a_modify_keeps_the_order_id_and_versions_share_the_command_id() -> None:
    """modify: same order, a Modify command whose id is the new version's, a Replaced report."""
    core, store = _core(), EntityStore(1, 2)
    order = core.submit(_limit("20990"), T0)
    order_id = store.place(order, CommandInfo(), T0)
    store.apply(core.take_events(), core.order, T0)
    changed = core.modify(order.id, OrderChanges(qty=Decimal(2), limit_price=Decimal(20980)), T0)
    assert changed.id == order.id
    command_id = store.modify(changed, CommandInfo(), T0)
    store.apply(core.take_events(), core.order, T0)
    versions = store.deps("orderVersion", [order_id])
    assert versions[-1]["id"] == command_id
    assert versions[-1]["orderQty"] == 2
    assert store.deps("executionReport", [command_id])[0]["execType"] == "Replaced"


def test_finished_orders_are_forgotten_beyond_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past FINISHED_ORDERS_KEPT finished orders the oldest goes, with its dependents."""
    monkeypatch.setattr("brokers.sim.tradovate.entities.FINISHED_ORDERS_KEPT", 2)
    core, store = _core(), EntityStore(1, 2)
    ids = []
    for _ in range(3):
        order = core.submit(_limit("20990"), T0)
        ids.append(store.place(order, CommandInfo(), T0))
        core.cancel(order.id, T0)
        store.apply(core.take_events(), core.order, T0)
    assert store.item("order", ids[0]) is None
    assert store.deps("command", [ids[0]]) == []
    assert store.item("order", ids[2]) is not None


def test_exits_that_never_armed_are_not_kept_once_finished() -> None:
    """A bracket canceled before its entry filled leaves nothing waiting to be armed."""
    core, store = _core(), EntityStore(1, 2)
    for _ in range(3):
        ticket = _limit("20990")
        bracket = OrderTicket(
            **{
                **{f: getattr(ticket, f) for f in ticket.__struct_fields__},
                "order_class": "bracket",
                "take_profit_limit": Decimal(21100),
                "stop_loss_stop": Decimal(20900),
            }
        )
        entry = core.submit(bracket, T0)
        store.place(entry, CommandInfo(), T0)
        for leg in core.legs(core.order(entry.id)):
            store.place(leg, CommandInfo(), T0)
        core.cancel(entry.id, T0)
        store.apply(core.take_events(), core.order, T0)
    assert store.awaiting_arm == 0
