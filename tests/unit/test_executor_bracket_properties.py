"""Hypothesis over random signal and venue sequences (market orders, and limit orders that
rest on after their signal), with brackets native or emulated: the position the executor
holds always equals the sum of the venue's fills, no order is ever submitted twice, a close
never changes the sign of a position, and the working exits never cover more than the
position."""

from __future__ import annotations

import itertools
from collections import deque
from decimal import Decimal as D

import attrs
import msgspec
from hypothesis import example, given, settings
from hypothesis import strategies as st

from actors.brackets import ProtectionFailurePolicy
from actors.executor_core import (
    AskRisk,
    Cancel,
    CancelFailed,
    ExecutorInput,
    Lookup,
    LookupDone,
    PriceSeen,
    Submit,
    SubmitAccepted,
    SymbolExecutor,
    client_order_id_for,
)
from actors.messages import Approved, ExecuteSignal, parse_signal
from actors.protection_keeper import ProtectionKeeper
from brokers.base import (
    Fill,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
    VenueOrder,
)
from tests.builders import T0

OPEN = (OrderStatus.NEW, OrderStatus.HELD, OrderStatus.PARTIALLY_FILLED)


@attrs.define
class SimOrder:
    request: OrderRequest
    venue_id: str
    status: OrderStatus = OrderStatus.NEW
    filled: D = D(0)
    avg: D | None = None
    legs: list[str] = attrs.field(factory=list)
    parent: str | None = None
    is_exit: bool = False  # a leg, or an oco's take-profit: one-cancels-other applies

    @property
    def open(self) -> bool:
        return self.status in OPEN


@attrs.define
class Venue:
    """A small venue: brackets with held legs, oco pairs, one-cancels-other, cancels."""

    orders: dict[str, SimOrder] = attrs.field(factory=dict)
    submissions: dict[str, int] = attrs.field(factory=dict)
    position: D = D(0)
    ids: itertools.count[int] = attrs.field(factory=itertools.count)

    def snapshot(self, cid: str) -> VenueOrder:
        o = self.orders[cid]
        return VenueOrder(
            venue_order_id=o.venue_id,
            client_order_id=cid,
            symbol="AAPL",
            side=o.request.side,
            qty=o.request.qty,
            filled_qty=o.filled,
            filled_avg_price=o.avg,
            status=o.status,
            order_type=o.request.order_type,
            time_in_force=TimeInForce.DAY,
            limit_price=o.request.limit_price,
            stop_price=o.request.stop_price,
            submitted_at=T0,
            updated_at=T0,
            legs=tuple(self.snapshot(leg) for leg in o.legs),
        )

    def submit(self, request: OrderRequest) -> VenueOrder:
        cid = request.client_order_id
        self.submissions[cid] = self.submissions.get(cid, 0) + 1
        parent = SimOrder(request, f"v{next(self.ids)}")
        self.orders[cid] = parent
        exit_side = request.side.opposite()
        legs: list[OrderRequest] = []
        if request.order_class == "oco":
            parent.is_exit = True
            exit_side = request.side
            legs.append(_leg(request, exit_side, OrderType.STOP, None, request.stop_loss))
        else:
            if request.take_profit is not None:
                legs.append(_leg(request, exit_side, OrderType.LIMIT, request.take_profit, None))
            if request.stop_loss is not None:
                legs.append(_leg(request, exit_side, OrderType.STOP, None, request.stop_loss))
        for leg_request in legs:
            leg = SimOrder(leg_request, f"v{next(self.ids)}", parent=cid, is_exit=True)
            if request.order_class != "oco":
                leg.status = OrderStatus.HELD
            self.orders[leg_request.client_order_id] = leg
            parent.legs.append(leg_request.client_order_id)
        return self.snapshot(cid)

    def fill(self, cid: str, qty: D, price: D) -> list[OrderUpdate]:
        o = self.orders[cid]
        qty = min(qty, o.request.qty - o.filled)
        cost = o.filled * (o.avg or D(0)) + qty * price
        o.filled += qty
        o.avg = cost / o.filled
        o.status = OrderStatus.FILLED if o.filled == o.request.qty else OrderStatus.PARTIALLY_FILLED
        self.position += qty if o.request.side is Side.BUY else -qty
        fill = Fill(execution_id=f"x{next(self.ids)}", qty=qty, price=price, at=T0)
        event = OrderEvent.FILL if o.status is OrderStatus.FILLED else OrderEvent.PARTIAL_FILL
        updates = [self._update(cid, event, fill)]
        if o.status is OrderStatus.FILLED and not o.is_exit:
            for leg in o.legs:  # the entry filled whole: its exits arm (a canceled one stays so)
                if self.orders[leg].status is OrderStatus.HELD:
                    self.orders[leg].status = OrderStatus.NEW
        if o.is_exit:  # one-cancels-other, at the exit's first fill
            family = self._family(cid)
            updates += [u for other in family if other != cid for u in self.cancel(other)]
        return updates

    def cancel(self, cid: str) -> list[OrderUpdate]:
        o = self.orders[cid]
        if not o.open:
            return []
        o.status = OrderStatus.CANCELED
        updates = [self._update(cid, OrderEvent.CANCELED)]
        for leg in o.legs:
            updates += self.cancel(leg)
        return updates

    def _family(self, cid: str) -> list[str]:
        o = self.orders[cid]
        root = o.parent or cid
        root_order = self.orders[root]
        members = list(root_order.legs)
        if root_order.is_exit:
            members.append(root)
        return members

    def _update(self, cid: str, event: OrderEvent, fill: Fill | None = None) -> OrderUpdate:
        order = msgspec.structs.replace(self.snapshot(cid), legs=())  # streams carry no legs
        return OrderUpdate(event=event, order=order, at=T0, fill=fill)

    def working_exit_qty(self, exits: set[str]) -> D:
        """What the working exits can sell (or buy back) at most: one of each pair fills."""
        by_family: dict[str, D] = {}
        for cid, o in self.orders.items():
            if cid in exits and o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
                root = o.parent or cid
                by_family[root] = max(by_family.get(root, D(0)), o.request.qty - o.filled)
        return sum(by_family.values(), D(0))


def _leg(
    parent: OrderRequest, side: Side, kind: OrderType, limit: D | None, stop: D | None
) -> OrderRequest:
    return OrderRequest(
        client_order_id=f"leg-{parent.client_order_id}-{kind.value}",
        symbol="AAPL",
        side=side,
        qty=parent.qty,
        order_type=kind,
        limit_price=limit,
        stop_price=stop,
    )


signals = st.tuples(
    st.sampled_from(["buy", "sell", "close", "limit buy", "limit sell"]),
    st.integers(1, 5),
    st.booleans(),
)
venue_moves = st.tuples(st.sampled_from(["fill", "partial", "cancel", "price"]), st.integers(0, 20))
steps = st.lists(st.one_of(signals, venue_moves), max_size=25)


@settings(max_examples=200, deadline=None)
@given(steps=steps, emulated=st.booleans())
# Emulated: a sale of the whole position started while the take-profit was being re-armed
# after an add; the new take-profit went out before the sale and outlived the position.
@example(
    steps=[
        ("fill", 0),
        ("fill", 0),
        ("buy", 1, False),
        ("buy", 1, True),
        ("price", 0),
        ("buy", 1, False),
        ("fill", 0),
        ("sell", 3, False),
        ("fill", 0),
        ("fill", 0),
        ("fill", 1),
    ],
    emulated=True,
)
# A buy resting from before a short's exits were armed takes part of the position: the
# exits cover only what it leaves.
@example(
    steps=[("fill", 0), ("limit buy", 1, False), ("sell", 2, True), ("fill", 0), ("fill", 1)],
    emulated=True,
)
# A sale resting beside a re-armed take-profit: together they covered twice the position.
@example(
    steps=[
        ("buy", 1, False),
        ("cancel", 0),
        ("limit buy", 2, True),
        ("partial", 0),
        ("limit sell", 1, False),
        ("fill", 2),
    ],
    emulated=True,
)
# A held leg canceled before its entry filled stays canceled (the model's venue).
@example(
    steps=[
        ("buy", 1, True),
        ("cancel", 0),
        ("sell", 1, False),
        ("fill", 0),
        ("buy", 1, True),
        ("fill", 1),
        ("fill", 0),
        ("fill", 0),
    ],
    emulated=False,
)
def test_position_follows_the_venue_and_exits_never_flip_it(
    steps: list[tuple[str, int, bool] | tuple[str, int]], emulated: bool
) -> None:
    """Whatever the signals and the venue do, the executor's position is the venue's."""
    keeper = ProtectionKeeper("AAPL", ProtectionFailurePolicy.FLATTEN, emulate=emulated)
    ex = SymbolExecutor("AAPL", protection=keeper)
    venue = Venue()
    inbox: deque[ExecutorInput] = deque()
    closes: set[str] = set()

    def run() -> None:
        for _ in range(500):
            if not inbox:
                return
            msg = inbox.popleft()
            before = venue.position
            for effect in ex.handle(msg, 0, T0):
                match effect:
                    case AskRisk(request=request):
                        inbox.append(
                            Approved(client_order_id=request.client_order_id, reserved=D(0))
                        )
                    case Submit(request=request):
                        assert request.client_order_id not in venue.submissions, "sent twice"
                        inbox.append(SubmitAccepted(order=venue.submit(request)))
                    case Cancel(client_order_id=cid):
                        updates = venue.cancel(cid)
                        if updates:
                            inbox.extend(updates)
                        else:
                            inbox.append(CancelFailed(client_order_id=cid, reason="not open"))
                    case Lookup(client_order_id=cid):
                        order = venue.snapshot(cid) if cid in venue.orders else None
                        inbox.append(LookupDone(client_order_id=cid, order=order))
            if isinstance(msg, OrderUpdate) and msg.order.client_order_id in closes:
                assert before * venue.position >= 0, "a close flipped the position"
        raise AssertionError("no quiescence")

    for n, step in enumerate(steps):
        if len(step) == 3:
            action, qty, bracket = step
            resting = action.startswith("limit ")  # works on after its signal is done
            action = action.removeprefix("limit ")
            body: dict[str, object] = {"id": f"s{n}", "symbol": "AAPL", "action": action}
            if resting:
                body |= {"order_type": "limit", "limit_price": 100}
            if action != "close":
                body["qty"] = qty
                if bracket:
                    up = action == "buy"
                    body |= {"take_profit": 110 if up else 90, "stop_loss": 90 if up else 110}
            signal = parse_signal(msgspec.json.encode(body))
            closes.add(client_order_id_for(f"s{n}", "close"))
            inbox.append(ExecuteSignal(signal=signal, reply=object(), received_at=T0))
        else:
            move, pick = step
            live = sorted(cid for cid, o in venue.orders.items() if o.status in OPEN)
            working = [cid for cid in live if venue.orders[cid].status is not OrderStatus.HELD]
            if move == "price":
                inbox.append(PriceSeen(price=D(85 + pick)))
            elif move == "cancel" and live:
                inbox.extend(venue.cancel(live[pick % len(live)]))
            elif working:
                cid = working[pick % len(working)]
                qty = D(1) if move == "partial" else venue.orders[cid].request.qty
                inbox.extend(venue.fill(cid, qty, D(100)))
        run()
        assert ex.position.qty == venue.position
        protection = ex.protection.current
        if protection is not None:
            assert venue.working_exit_qty(protection.exits) <= abs(venue.position)
    assert set(venue.submissions.values()) <= {1}
