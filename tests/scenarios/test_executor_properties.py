"""Random sessions of buy, sell, close and target signals on two symbols, with lost answers,
refusals and duplicated or reordered stream events mixed in, through the daemon and the
paper venue. Once everything is final:

- the venue's position in each symbol equals the sum of the confirmed fills in the journal
  (and the daemon's own position);
- every order reached the venue at most once;
- each signal traded from the position its symbol's earlier signals left: a close sent the
  opposite side for exactly that size (nothing when flat), a target sent the difference, and
  no close ever changed the sign of a position;
- a buy or sell across zero went out as the held quantity first, and the rest only once
  that had filled completely.

The "position before" each signal is the sum of the fills of that symbol's earlier signals,
taken from the journal after the session: a symbol's signals apply in order, each one
sized only once the one before it is final, so this does not depend on how the tasks that
journaled them were scheduled.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, assert_never

from hypothesis import given, settings
from hypothesis import strategies as st

from actors.ids import client_order_id_for
from actors.order_state import State
from actors.risk.limits import RiskLimits
from brokers.base import Side
from tests.scenarios.daemon_on_sim import Scenario, daemon_on_sim, signal
from tests.strategies import ArmFault, SendSignal, SessionStep, Settle, session_steps

if TYPE_CHECKING:
    from daemon.journal.rows import FillRow, OrderRow

# A session sends a dozen orders within milliseconds, often the same one twice: the order
# rate and duplicate-order controls would deny most of them, and what is under test here is
# what the executor does with the orders that go out.
OPEN_RISK = RiskLimits(duplicate_window=0.0, max_orders_per_second=None, max_orders_per_minute=None)

# The leg whose client_order_id a signal's first order derives (denials journal no intent).
LEG = {"buy": "entry", "sell": "entry", "close": "close", "target": "target"}


def signed(side: Side | None, qty: Decimal) -> Decimal:
    return qty if side is Side.BUY else -qty


async def play(scenario: Scenario, steps: list[SessionStep]) -> list[tuple[str, SendSignal]]:
    sent: list[tuple[str, SendSignal]] = []
    for n, step in enumerate(steps):
        match step:
            case SendSignal(symbol=symbol, action=action, size=size):
                sid = f"p{n}"
                extra = {"target_qty": size} if action == "target" else {}
                qty = size if action in ("buy", "sell") else None
                (ack,) = await scenario.send(signal(sid, symbol, action, qty, **extra))
                assert ack.status == "accepted", ack
                sent.append((sid, step))
            case Settle():
                await scenario.settle()
            case ArmFault(fault=fault):
                await scenario.venue.fault(fault)
            case _:
                assert_never(step)
    await scenario.settle()
    return sent


def orders_of(sid: str, step: SendSignal, orders: dict[str, OrderRow]) -> list[OrderRow]:
    """The orders a signal made: those whose intent names it, and a risk denial (which
    journals no intent) found by the client_order_id the signal's leg derives."""
    mine = [row for row in orders.values() if row.signal_id == sid]
    denied = orders.get(client_order_id_for(sid, LEG[step.action]))
    if denied is not None and denied not in mine:
        mine.append(denied)
    return mine


def check_each_signal(
    sent: list[tuple[str, SendSignal]], orders: dict[str, OrderRow], fills: list[FillRow]
) -> None:
    filled: dict[str, Decimal] = defaultdict(Decimal)
    for fill in fills:
        filled[fill.client_order_id] += signed(fill.side, fill.qty)
    position: dict[str, Decimal] = defaultdict(Decimal)
    for sid, step in sent:
        before = position[step.symbol]
        made = orders_of(sid, step, orders)
        change = sum((filled[row.client_order_id] for row in made), Decimal(0))
        after = before + change
        position[step.symbol] = after
        what = (sid, step, before, made)
        for row in made:
            assert abs(filled[row.client_order_id]) == row.filled_qty, what
        sent_orders = [row for row in made if row.state != State.DENIED]
        requested = sum(
            (signed(row.side, row.qty or Decimal(0)) for row in sent_orders), Decimal(0)
        )
        match step.action:
            case "close":
                assert bool(made) == (before != 0), what  # flat: no order at all
                # Toward zero, never through it: a short is closed by a buy, a long by a sell.
                assert before * after >= 0, what
                assert abs(after) <= abs(before), what
                assert requested in (0, -before), what
            case "target":
                assert step.size is not None
                delta = step.size - before
                assert bool(made) == (delta != 0), what
                # Only the difference, on its side (in one order or more).
                assert all(signed(r.side, Decimal(1)) * delta > 0 for r in sent_orders), what
                assert abs(requested) <= abs(delta), what
                if made and all(row.state == State.FILLED for row in made):
                    assert after == step.size, what
            case _:
                assert step.size is not None
                wanted = signed(Side(step.action), Decimal(step.size))
                if before * (before + wanted) >= 0:
                    assert len(made) == 1, what
                    if sent_orders:
                        assert requested == wanted, what
                    continue
                # Across zero: first exactly the held quantity back to zero, and the rest
                # only once that leg filled completely (the position was flat).
                first_id = client_order_id_for(sid, "flat")
                first = [r for r in made if r.client_order_id == first_id]
                opened = [r for r in sent_orders if r.leg == "open"]
                assert len(first) == 1, what
                assert len(made) == 1 + len(opened), what
                if first[0].state != State.DENIED:
                    assert signed(first[0].side, first[0].qty or Decimal(0)) == -before, what
                if opened:
                    assert filled[first[0].client_order_id] == -before, what
                    assert requested == wanted, what


@settings(max_examples=15, deadline=None)
@given(steps=st.lists(session_steps, min_size=1, max_size=12))
async def test_positions_equal_confirmed_fills_and_closes_never_flip(
    steps: list[SessionStep],
) -> None:
    """Over random signal sequences the venue's position is the journal's sum of fills, and
    every close is sized from the confirmed position without changing its sign."""
    with tempfile.TemporaryDirectory() as scratch:
        async with daemon_on_sim(Path(scratch), risk=OPEN_RISK) as scenario:
            sent = await play(scenario, steps)
            state = await scenario.venue.state()
            journal = scenario.daemon.journal
            orders = {row.client_order_id: row for row in await journal.orders()}
            fills = await journal.fills()
            assert scenario.daemon.unresolved() == 0
            assert all(State(row.state).is_final for row in orders.values()), orders
            assert set(state["submissions"].values()) <= {1}, state["submissions"]
            journaled: dict[str, Decimal] = defaultdict(Decimal)
            for fill in fills:
                journaled[fill.symbol] += signed(fill.side, fill.qty)
            venue = {p["symbol"]: Decimal(p["qty"]) for p in state["positions"]}
            assert {s: q for s, q in journaled.items() if q} == venue
            assert scenario.daemon.positions() == venue
            check_each_signal(sent, orders, fills)
