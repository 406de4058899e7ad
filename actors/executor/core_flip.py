"""Orders that would take a position across zero: sent as two legs of one signal. Pure.

Venues refuse a single order that crosses zero (Alpaca: 403 "insufficient qty available for
order"; the paper venue likewise): long 5, target -3 cannot be one SELL 8. So the executor
sends the part that brings the position to zero first (a ``flat`` leg, risk-reducing) and,
only once that order is final and the confirmed position is flat, the rest from zero as an
``open`` leg (an entry, asked of RiskGuard like any entry). Each leg has its own
deterministic client_order_id, so neither can go out twice.

A first leg that leaves the position anywhere but flat stops the signal there: the rest is
never sent (it would over-trade), and the journal says why.

A restart between the legs finds the ``flat`` leg's intent with no ``open`` one; the goal
follows from the signal and that leg (``resume_goal``), so the open leg goes out once the
flat leg is final, under the same rules (and only as soon after it as a resent intent).
A buy or sell that RiskGuard sized past the position is split after its approval, under its
``entry`` leg, and is not resumed: its size was RiskGuard's, and is not in the journal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from actors.flips import FLAT_LEG, OPEN_LEG, signed_qty
from actors.ids import client_order_id_for
from actors.messages import Action, Signal
from actors.records import SignalRecorded

if TYPE_CHECKING:
    from datetime import datetime

    from actors.executor.core_signals import Job
    from actors.order_state import TrackedOrder
from brokers.base import OrderRequest, OrderType, Side

ZERO = Decimal(0)


def crosses_zero(position_qty: Decimal, request: OrderRequest) -> bool:
    """True when filling ``request`` would leave the position on the other side of zero."""
    after = position_qty + signed_qty(request.side, request.qty)
    return position_qty != 0 and after != 0 and (after > 0) != (position_qty > 0)


def splits(signal: Signal, position_qty: Decimal, request: OrderRequest) -> bool:
    """A close is sized to the position and never crosses; every other order may."""
    return signal.action is not Action.CLOSE and crosses_zero(position_qty, request)


def refusal_to_split(request: OrderRequest) -> str | None:
    """Why an order across zero cannot go out as two legs, or None when it can.

    A resting order (limit, stop) could leave its first leg working for days with the
    second waiting on it; it is refused with the reason instead of being half sent.
    """
    if request.order_type is OrderType.MARKET:
        return None
    return (
        f"a {request.order_type.value} order cannot cross zero (the venue refuses it, and "
        "its two legs could rest apart for days): close the position first, then send the "
        "new entry"
    )


def to_zero_leg(
    request: OrderRequest, position_qty: Decimal, signal_id: str | None = None
) -> OrderRequest:
    """The first leg: exactly the held quantity, with no exits (it opens nothing); under the
    ``flat`` leg's id when ``signal_id`` is given (else it keeps the id already approved)."""
    cid = request.client_order_id
    if signal_id is not None:
        cid = client_order_id_for(signal_id, FLAT_LEG)
    return msgspec.structs.replace(
        request, client_order_id=cid, qty=abs(position_qty), take_profit=None, stop_loss=None
    )


def open_leg(signal: Signal, symbol: str, goal: Decimal) -> OrderRequest:
    """The second leg, from a flat position to ``goal``; a buy or sell brings its exits."""
    return OrderRequest(
        client_order_id=client_order_id_for(signal.id, OPEN_LEG),
        symbol=symbol,
        side=Side.BUY if goal > 0 else Side.SELL,
        qty=abs(goal),
        time_in_force=signal.time_in_force,
        take_profit=signal.take_profit,
        stop_loss=signal.stop_loss,
    )


def stopped_short(first: TrackedOrder | None, position_qty: Decimal, goal: Decimal) -> str:
    """Why the open leg was not sent: the first leg did not leave the position flat."""
    if first is None:
        leg = "the flat leg ended before a restart"
    else:
        leg = (
            f"the first leg ended {first.state.value} with {first.filled_qty} of "
            f"{first.request.qty} filled"
        )
    return f"{leg}; the position is {position_qty}, not flat, so the rest (to {goal}) was not sent"


def incomplete(job: Job, reason: str, wall: datetime) -> SignalRecorded:
    """A signal acked ``accepted`` whose second leg never went out: the journal says why
    (its id stays spent: a resend still acks duplicate)."""
    return SignalRecorded(
        at=wall,
        signal_id=job.signal.id,
        source=job.source,
        raw=job.raw,
        status="incomplete",
        reason=reason,
    )
