"""Hypothesis over random signal and venue sequences (market orders, and limit orders that
rest on after their signal), with brackets native or emulated: the position the executor
holds always equals the sum of the venue's fills, no order is ever submitted twice, a close
never changes the sign of a position, and the exits working at the venue (the protection's
or any other) never cover more than the position."""

from __future__ import annotations

from collections import deque
from decimal import Decimal as D

import msgspec
from hypothesis import example, given, settings
from hypothesis import strategies as st

from actors.executor.core import SymbolExecutor
from actors.executor.effects import (
    AskRisk,
    Cancel,
    CancelFailed,
    ExecutorInput,
    Lookup,
    OrderLookedUp,
    Submit,
    SubmitAccepted,
)
from actors.executor.protection.brackets import ProtectionFailurePolicy
from actors.executor.protection.keeper import ProtectionKeeper
from actors.ids import client_order_id_for
from actors.messages import Approved, ExecuteSignal, PriceSeen, parse_signal
from brokers.base import OrderStatus, OrderUpdate
from tests.bracket_venue import OPEN, Venue
from tests.builders import T0, unread_replies
from tests.strategies import bracket_session_steps


@settings(max_examples=200, deadline=None)
@given(steps=bracket_session_steps, emulated=st.booleans())
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
# A bracket buy while an earlier one rests: it went with legs of its own, two sets of exits,
# and a sale of the whole position left the second set working on a flat position.
@example(
    steps=[
        ("limit buy", 2, True),
        ("buy", 1, True),
        ("fill", 0),
        ("sell", 3, False),
        ("fill", 2),
    ],
    emulated=False,
)
# A bracket sell while a bracket buy rests: its legs outlived the short the buy closed.
@example(
    steps=[("limit buy", 1, True), ("sell", 1, True), ("fill", 1), ("fill", 0)],
    emulated=False,
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
                        inbox.append(OrderLookedUp(client_order_id=cid, order=order))
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
            inbox.append(
                ExecuteSignal(
                    signal=signal, reply=unread_replies(), received_at=T0, source="test", raw=""
                )
            )
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
                fill_qty = D(1) if move == "partial" else venue.orders[cid].request.qty
                inbox.extend(venue.fill(cid, fill_qty, D(100)))
        run()
        assert ex.position.qty == venue.position
        protection = ex.protection.current
        if protection is not None:
            assert venue.working_exit_qty(protection.exits) <= abs(venue.position)
        # Every exit at the venue, the protection's or not: one set, never past the position.
        every_exit = {cid for cid, o in venue.orders.items() if o.is_exit}
        assert venue.working_exit_qty(every_exit) <= abs(venue.position), "exits over-cover"
    assert set(venue.submissions.values()) <= {1}
