"""How much a position's exits may cover, and which of them the venue ends by itself. Pure.

The exits and every other order on their side (a sale resting, one just sent) draw on the
same shares: if all of them filled, they must never sell more than the position holds,
or an exit would open a position nobody asked for. So the exits cover only the ``room``
the other orders leave, and are redone when they could take more than that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from actors.order_state import State, TrackedOrder

if TYPE_CHECKING:
    from actors.executor.protection.brackets import Protection

FindOrder = Callable[[str], TrackedOrder | None]

_RESTING = (State.ACCEPTED, State.PARTIALLY_FILLED)


def selling_qty(
    p: Protection, working: Iterable[TrackedOrder], parent_of: Mapping[str, str]
) -> Decimal:
    """What the orders on the exits' side that are not exits may still take."""
    return sum(
        (
            o.request.qty - o.filled_qty
            for o in working
            if o.request.side is p.exit_side and not is_exit(p, o.client_order_id, parent_of)
        ),
        Decimal(0),
    )


def is_exit(p: Protection, client_order_id: str, parent_of: Mapping[str, str]) -> bool:
    return client_order_id in p.exits or parent_of.get(client_order_id) in p.exits


def exits_exceed(
    p: Protection, room: Decimal, lookup: FindOrder, parent_of: Mapping[str, str]
) -> bool:
    """The armed exits could take more than ``room``. Not while one of them has filled:
    the venue's one-cancels-other is ending the rest (and the fill took its share)."""
    if p.rearm:
        return False  # being redone already
    exits = [o for cid in p.exits if (o := lookup(cid)) is not None]
    if any(o.filled_qty > 0 for o in exits):
        return False
    armed = [
        o.request.qty for o in exits if not o.state.is_final and is_armed(p, o, lookup, parent_of)
    ]
    return max(armed, default=Decimal(0)) > room


def exits_fall_short(p: Protection, room: Decimal, lookup: FindOrder) -> bool:
    """The exits tradingd placed cover less than they may now (a sale beside them ended
    unfilled): they are redone for the more. Not while one of them has filled."""
    if p.rearm or p.triggered or not p.entry_settled or p.placed is None:
        return False
    exits = [o for cid in p.exits if (o := lookup(cid)) is not None]
    if any(o.filled_qty > 0 for o in exits) or not all(o.state in _RESTING for o in exits):
        return False
    armed = max((o.request.qty for o in exits), default=Decimal(0))
    return Decimal(0) < armed < min(p.filled, room)


def is_armed(
    p: Protection, exit_order: TrackedOrder, lookup: FindOrder, parent_of: Mapping[str, str]
) -> bool:
    """A native leg is held by the venue (it cannot fill) until its entry has filled whole."""
    parent_id = parent_of.get(exit_order.client_order_id)
    if parent_id is None or parent_id in p.exits:
        return True
    parent = lookup(parent_id)
    return parent is not None and parent.state is State.FILLED


def sibling_filled(p: Protection, exit_order: TrackedOrder, lookup: FindOrder) -> bool:
    """Another of the position's exits has filled: the venue cancels this one with it."""
    return any(
        (sibling := lookup(cid)) is not None and sibling.filled_qty > 0
        for cid in p.exits
        if cid != exit_order.client_order_id
    )


def venue_cancels(
    leg: TrackedOrder, live_ids: set[str], lookup: FindOrder, parent_of: Mapping[str, str]
) -> bool:
    """True when the venue cancels this leg itself: its parent is being canceled, or
    ended without filling (its cancel event, or the monitor's lookup, will say)."""
    parent_id = parent_of.get(leg.client_order_id)
    if parent_id is None:
        return False
    if parent_id in live_ids:
        return True
    parent = lookup(parent_id)
    return parent is not None and parent.state.is_final and parent.state is not State.FILLED


def signed(qty: Decimal, like: Decimal) -> Decimal:
    """``qty`` with the sign of the position ``like``."""
    return qty if like > 0 else -qty


def canceled_by_someone_else(p: Protection, lookup: FindOrder) -> bool:
    """An exit ended canceled though tradingd never asked (it asks only while re-arming or
    ending the protection) and none of the exits filled (one-cancels-other) nor was refused."""
    if p.rearm or p.triggered or not p.entry_settled:
        return False
    exits = [o for cid in p.exits if (o := lookup(cid)) is not None]
    if any(o.filled_qty > 0 or o.state is State.REJECTED for o in exits):
        return False
    return any(o.state is State.CANCELED for o in exits)
